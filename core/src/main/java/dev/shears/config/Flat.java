package dev.shears.config;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a record component that groups settings in code but not in files: its own components are
 * read and written as keys of the enclosing object ({@code lr: 1e-3}, not {@code optimiser: {lr: 1e-3}}),
 * so configurations stay flat for {@code --set key=value} while the records stay small.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.RECORD_COMPONENT, ElementType.FIELD, ElementType.METHOD, ElementType.PARAMETER})
public @interface Flat {
}
