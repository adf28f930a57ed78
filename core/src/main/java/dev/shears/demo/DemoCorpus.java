package dev.shears.demo;

import java.util.List;
import java.util.SplittableRandom;

/**
 * The demo's own training text: short children's stories from a small seeded grammar, so the demo
 * needs no download and no shared data. The grammar has enough structure (names that recur,
 * agreement between a character and what it does, a beginning, middle and end) that a tiny model
 * visibly learns it in a few minutes, and enough variety that it cannot just memorise.
 */
public final class DemoCorpus {
    private static final List<String> NAMES = List.of("Tom", "Lily", "Ben", "Mia", "Sam", "Anna", "Max", "Lucy", "Tim", "Sue", "Jack", "Emma");
    private static final List<String> ANIMALS = List.of("cat", "dog", "bird", "fish", "frog", "bunny", "duck", "bear", "mouse", "fox");
    private static final List<String> PLACES = List.of("park", "garden", "forest", "house", "river", "beach", "farm", "hill", "town", "school");
    private static final List<String> THINGS = List.of("ball", "kite", "box", "hat", "cake", "book", "toy", "flower", "boat", "apple", "drum", "star");
    private static final List<String> COLORS = List.of("red", "blue", "green", "yellow", "big", "small", "shiny", "soft", "old", "new");
    private static final List<String> FEELINGS = List.of("happy", "sad", "scared", "excited", "tired", "proud", "angry", "surprised");
    private static final List<String> VERBS = List.of("play", "run", "jump", "sing", "dance", "swim", "read", "draw", "climb", "hide");
    private static final List<String> WEATHER = List.of("sunny", "rainy", "windy", "cold", "warm", "bright");

    private DemoCorpus() {
    }

    /** {@code stories} stories separated by blank lines (the document separator of data preparation). */
    public static String generate(long seed, int stories) {
        SplittableRandom random = new SplittableRandom(seed);
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < stories; i++) {
            if (i > 0) text.append("\n\n");
            story(random, text);
        }
        return text.append('\n').toString();
    }

    /**
     * Name-recall items, LAMBADA-style: a story cut just before its last sentence's hero name
     * ({@code ... At the end of the day,} → {@code Lily}). The name appears earlier in the story, so
     * a model that follows the story can say it; one JSON object per line with {@code context} and {@code name}.
     */
    static String nameRecallItems(long seed, int items) {
        SplittableRandom random = new SplittableRandom(seed);
        StringBuilder out = new StringBuilder();
        String cue = "At the end of the day,";
        for (int i = 0; i < items; i++) {
            StringBuilder s = new StringBuilder();
            story(random, s);
            int at = s.indexOf(cue) + cue.length();
            String rest = s.substring(at + 1);
            String name = rest.substring(0, rest.indexOf(' '));
            out.append("{\"context\": \"").append(s.substring(0, at).replace("\"", "\\\"")).append("\", \"name\": \"").append(name).append("\"}\n");
        }
        return out.toString();
    }

    private static void story(SplittableRandom r, StringBuilder s) {
        String hero = pick(r, NAMES);
        String friend = pick(r, NAMES.stream().filter(n -> !n.equals(hero)).toList());
        String animal = pick(r, ANIMALS);
        String place = pick(r, PLACES);
        String thing = pick(r, THINGS);
        String color = pick(r, COLORS);
        String verb = pick(r, VERBS);
        switch (r.nextInt(3)) {
            case 0 -> s.append("Once upon a time, there was a little ").append(animal).append(" named ").append(hero).append(". ");
            case 1 -> s.append("One ").append(pick(r, WEATHER)).append(" day, ").append(hero).append(" went to the ").append(place).append(". ");
            default -> s.append(hero).append(" had a ").append(color).append(' ').append(thing).append(". ");
        }
        s.append(hero).append(" liked to ").append(verb).append(" in the ").append(place).append(". ");
        s.append("One day, ").append(hero).append(" saw a ").append(color).append(' ').append(thing).append(". ");
        String feeling = pick(r, FEELINGS);
        s.append(hero).append(" was very ").append(feeling).append(". ");
        switch (r.nextInt(4)) {
            case 0 -> s.append('"').append("Can I ").append(verb).append(" with your ").append(thing).append("?\" asked ").append(friend)
                    .append(". ").append(hero).append(" said, \"Yes, let's ").append(verb).append(" together!\" ");
            case 1 -> s.append("But the ").append(thing).append(" was lost in the ").append(pick(r, PLACES)).append(". ")
                    .append(hero).append(" and ").append(friend).append(" looked for it all day. At last, they found it under a tree. ");
            case 2 -> s.append(friend).append(" wanted the ").append(thing).append(" too. They did not want to share. ")
                    .append("Then they learned that sharing is fun, and they were friends again. ");
            default -> s.append("The ").append(animal).append(" came to ").append(verb).append(" with ").append(hero)
                    .append(". They had so much fun in the ").append(place).append(". ");
        }
        int extra = r.nextInt(3);
        for (int i = 0; i < extra; i++) {
            s.append(pick(r, List.of(hero, friend))).append(" liked the ").append(pick(r, COLORS)).append(' ').append(pick(r, THINGS)).append(". ");
        }
        s.append("At the end of the day, ").append(hero).append(" went home. ").append(hero).append(" was ")
                .append(pick(r, List.of("happy", "tired", "proud"))).append(" and went to sleep.");
    }

    private static String pick(SplittableRandom r, List<String> options) {
        return options.get(r.nextInt(options.size()));
    }
}
