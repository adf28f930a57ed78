package dev.shears.format.hf;

import dev.shears.ShearsException;
import dev.shears.io.DType;
import dev.shears.io.Printable;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The pickle of a torch.save'd state dict, read by a stack machine that knows only what torch.save
 * writes (protocol 2, and the few opcodes protocol 4 adds). It builds plain values (str, int, float,
 * bool, None, tuple, list, dict) and, through an allow-list of globals, torch's tensor rebuild
 * functions and storage types; it imports nothing and calls nothing. Any other global, opcode or
 * call is refused with one line naming the byte offset, before anything of it is read further.
 * Python's Lib/pickle.py (Unpickler.load_*) is the reference for each opcode; torch/serialization.py
 * and torch/_utils.py for the persistent ids and the rebuild calls.
 */
final class TorchUnpickler {
    /** Protocols whose opcodes this reads: torch.save writes 2; 3 to 5 add none that a state dict uses but FRAME and MEMOIZE. */
    private static final int MIN_PROTOCOL = 2;
    private static final int MAX_PROTOCOL = 5;
    /** The widest LONG1 that fits a Java long. */
    private static final int MAX_LONG1_BYTES = 8;

    /** Every pickle opcode (Lib/pickletools.py), and whether torch.save writes it into a state dict. */
    enum Op {
        MARK('(', true), STOP('.', true), POP('0', false), POP_MARK('1', false), DUP('2', false), FLOAT('F', false), INT('I', false),
        BININT('J', true), BININT1('K', true), LONG('L', false), BININT2('M', true), NONE('N', true), PERSID('P', false),
        BINPERSID('Q', true), REDUCE('R', true), STRING('S', false), BINSTRING('T', false), SHORT_BINSTRING('U', false),
        UNICODE('V', false), BINUNICODE('X', true), APPEND('a', true), BUILD('b', true), GLOBAL('c', true), DICT('d', false),
        EMPTY_DICT('}', true), APPENDS('e', true), GET('g', false), BINGET('h', true), INST('i', false), LONG_BINGET('j', true),
        LIST('l', false), EMPTY_LIST(']', true), OBJ('o', false), PUT('p', false), BINPUT('q', true), LONG_BINPUT('r', true),
        SETITEM('s', true), TUPLE('t', true), EMPTY_TUPLE(')', true), SETITEMS('u', true), BINFLOAT('G', true),
        PROTO(0x80, true), NEWOBJ(0x81, false), EXT1(0x82, false), EXT2(0x83, false), EXT4(0x84, false), TUPLE1(0x85, true),
        TUPLE2(0x86, true), TUPLE3(0x87, true), NEWTRUE(0x88, true), NEWFALSE(0x89, true), LONG1(0x8a, true), LONG4(0x8b, false),
        BINBYTES('B', false), SHORT_BINBYTES('C', false), SHORT_BINUNICODE(0x8c, true), BINUNICODE8(0x8d, false),
        BINBYTES8(0x8e, false), EMPTY_SET(0x8f, false), ADDITEMS(0x90, false), FROZENSET(0x91, false), NEWOBJ_EX(0x92, false),
        STACK_GLOBAL(0x93, true), MEMOIZE(0x94, true), FRAME(0x95, true), BYTEARRAY8(0x96, false), NEXT_BUFFER(0x97, false),
        READONLY_BUFFER(0x98, false);

        private static final Op[] BY_CODE = new Op[256];

        static {
            for (Op op : values()) BY_CODE[op.code] = op;
        }

        final int code;
        final boolean torchSave;

        Op(int code, boolean torchSave) {
            this.code = code;
            this.torchSave = torchSave;
        }
    }

    /** Python's None. */
    enum PyNone { NONE }

    /** A tuple: immutable, as built from the stack. */
    record Tuple(List<Object> items) {
    }

    /** A dict or, made by {@code collections.OrderedDict()}, an OrderedDict; insertion-ordered either way, keys str or int. */
    static final class Dict {
        final Map<Object, Object> items = new LinkedHashMap<>();
        final boolean ordered;

        Dict(boolean ordered) {
            this.ordered = ordered;
        }
    }

    /** The globals that a state dict calls. */
    enum Callable {
        ORDERED_DICT("collections", "OrderedDict"), REBUILD_TENSOR("torch._utils", "_rebuild_tensor_v2"), REBUILD_PARAMETER("torch._utils", "_rebuild_parameter");

        final String module;
        final String name;

        Callable(String module, String name) {
            this.module = module;
            this.name = name;
        }

        @Override
        public String toString() {
            return module + "." + name;
        }
    }

    /** The storage types a persistent id may name: the element types Shears reads. */
    enum StorageType {
        FLOAT("FloatStorage", DType.F32), HALF("HalfStorage", DType.F16), BFLOAT16("BFloat16Storage", DType.BF16);

        static final String MODULE = "torch";
        final String name;
        final DType dtype;

        StorageType(String name, DType dtype) {
            this.name = name;
            this.dtype = dtype;
        }

        @Override
        public String toString() {
            return MODULE + "." + name;
        }
    }

    /** A storage named by a persistent id {@code ('storage', type, key, location, numel)}: the zip entry {@code data/<key>}. */
    record Storage(StorageType type, String key, long numel) {
    }

    /**
     * A tensor as {@code torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, ...)} would
     * make it: sizes and strides in elements, unchecked against the storage.
     */
    record Rebuilt(Storage storage, long offset, long[] shape, long[] strides) {
    }

    private final String where;
    private final byte[] pickle;
    private int pos;
    private final Deque<Object> stack = new ArrayDeque<>();
    private final Deque<Integer> marks = new ArrayDeque<>();
    private final Map<Long, Object> memo = new HashMap<>();
    private final Map<String, Storage> storages = new HashMap<>();

    private TorchUnpickler(String where, byte[] pickle) {
        this.where = where;
        this.pickle = pickle;
    }

    /**
     * The value a pickle holds.
     *
     * @param where the file and entry, for messages: "{@code model.bin: archive/data.pkl}"
     */
    static Object load(String where, byte[] pickle) {
        return new TorchUnpickler(where, pickle).run();
    }

    private Object run() {
        while (true) {
            int at = pos;
            int code = u8(at, "an opcode");
            Op op = Op.BY_CODE[code];
            if (op == null) throw fail(at, String.format("byte 0x%02x is not a pickle opcode (corrupt data.pkl?)", code));
            if (!op.torchSave) throw fail(at, "opcode " + op + String.format(" (0x%02x)", code) + " is not one torch.save writes into a state dict; refusing it");
            switch (op) {
                case PROTO -> {
                    int protocol = u8(at, "a protocol number");
                    if (protocol < MIN_PROTOCOL || protocol > MAX_PROTOCOL) throw fail(at, "pickle protocol " + protocol + " (torch.save writes 2)");
                }
                case FRAME -> bytes(at, 8);
                case MARK -> marks.push(stack.size());
                case STOP -> {
                    if (stack.size() != 1 || !marks.isEmpty()) throw fail(at, "STOP with " + stack.size() + " values on the stack and " + marks.size() + " marks open");
                    return stack.pop();
                }
                case EMPTY_DICT -> stack.push(new Dict(false));
                case EMPTY_LIST -> stack.push(new ArrayList<>());
                case EMPTY_TUPLE -> stack.push(new Tuple(List.of()));
                case BINUNICODE -> stack.push(string(at, u32(at)));
                case SHORT_BINUNICODE -> stack.push(string(at, u8(at, "a length")));
                case BININT -> stack.push((long) ByteBuffer.wrap(bytes(at, 4)).order(ByteOrder.LITTLE_ENDIAN).getInt());
                case BININT1 -> stack.push((long) u8(at, "an integer"));
                case BININT2 -> stack.push((long) (u8(at, "an integer") | u8(at, "an integer") << 8));
                case LONG1 -> stack.push(long1(at));
                case BINFLOAT -> stack.push(ByteBuffer.wrap(bytes(at, 8)).getDouble()); // big-endian, as pickle writes it
                case NEWTRUE -> stack.push(Boolean.TRUE);
                case NEWFALSE -> stack.push(Boolean.FALSE);
                case NONE -> stack.push(PyNone.NONE);
                case TUPLE -> stack.push(new Tuple(popToMark(at, op)));
                case TUPLE1, TUPLE2, TUPLE3 -> {
                    int n = op.code - Op.TUPLE1.code + 1;
                    if (stack.size() - openMark() < n) throw fail(at, op + " needs " + n + " values on the stack");
                    Object[] items = new Object[n];
                    for (int i = n - 1; i >= 0; i--) items[i] = stack.pop();
                    stack.push(new Tuple(List.of(items)));
                }
                case SETITEM -> {
                    need(at, op, 3);
                    Object value = stack.pop();
                    Object key = stack.pop();
                    put(at, op, key, value);
                }
                case SETITEMS -> {
                    List<Object> items = popToMark(at, op);
                    if (items.size() % 2 != 0) throw fail(at, "SETITEMS with an odd number of values");
                    need(at, op, 1);
                    for (int i = 0; i < items.size(); i += 2) put(at, op, items.get(i), items.get(i + 1));
                }
                case APPEND -> {
                    need(at, op, 2);
                    Object value = stack.pop();
                    list(at, op).add(value);
                }
                case APPENDS -> {
                    List<Object> items = popToMark(at, op);
                    need(at, op, 1);
                    list(at, op).addAll(items);
                }
                case BINPUT -> remember(at, u8(at, "a memo index"));
                case LONG_BINPUT -> remember(at, u32(at));
                case MEMOIZE -> remember(at, memo.size());
                case BINGET, LONG_BINGET -> {
                    long index = op == Op.BINGET ? u8(at, "a memo index") : u32(at);
                    Object value = memo.get(index);
                    if (value == null) throw fail(at, op + " " + index + " of a value never memoized");
                    stack.push(value);
                }
                case BINPERSID -> {
                    need(at, op, 1);
                    stack.push(storage(at, stack.pop()));
                }
                case GLOBAL -> {
                    String module = line(at);
                    String name = line(at);
                    stack.push(global(at, op, module, name));
                }
                case STACK_GLOBAL -> {
                    need(at, op, 2);
                    Object name = stack.pop();
                    Object module = stack.pop();
                    if (!(module instanceof String m) || !(name instanceof String n)) {
                        throw fail(at, "STACK_GLOBAL of a " + describe(module) + " and a " + describe(name) + ", not two strings");
                    }
                    stack.push(global(at, op, m, n));
                }
                case REDUCE -> {
                    need(at, op, 2);
                    Object args = stack.pop();
                    Object callable = stack.pop();
                    stack.push(call(at, callable, args));
                }
                case BUILD -> {
                    need(at, op, 2);
                    Object state = stack.pop();
                    // an OrderedDict's state is its __dict__ (a state dict's _metadata): set as an attribute, which nothing here reads
                    if (!(stack.peek() instanceof Dict d) || !d.ordered || !(state instanceof Dict)) {
                        throw fail(at, "BUILD on a " + describe(stack.peek()) + " with a " + describe(state)
                                + ": torch.save only sets an OrderedDict's attributes from a dict; refusing it");
                    }
                }
                default -> throw new IllegalStateException("opcode " + op + " is marked as written by torch.save but has no case");
            }
        }
    }

    // ---- the allow-list

    private Object global(int at, Op op, String module, String name) {
        for (Callable c : Callable.values()) {
            if (c.module.equals(module) && c.name.equals(name)) return c;
        }
        if (module.equals(StorageType.MODULE)) {
            for (StorageType t : StorageType.values()) {
                if (t.name.equals(name)) return t;
            }
            if (name.endsWith("Storage")) {
                throw fail(at, op + " " + module + "." + name + ": tensors of that type are not supported (only torch.FloatStorage, torch.HalfStorage, torch.BFloat16Storage)");
            }
        }
        throw fail(at, op + " " + module + "." + name + " is not allowed: a state dict needs only collections.OrderedDict, "
                + "torch._utils._rebuild_tensor_v2, torch._utils._rebuild_parameter and torch.FloatStorage/HalfStorage/BFloat16Storage; refusing it, nothing was run");
    }

    private Object call(int at, Object callable, Object args) {
        if (!(callable instanceof Callable c)) {
            throw fail(at, "REDUCE calls a " + describe(callable) + "; a state dict calls only collections.OrderedDict, "
                    + "torch._utils._rebuild_tensor_v2 and torch._utils._rebuild_parameter; refusing it");
        }
        if (!(args instanceof Tuple(List<Object> a))) throw fail(at, "REDUCE calls " + c + " with a " + describe(args) + ", not a tuple of arguments");
        return switch (c) {
            case ORDERED_DICT -> {
                if (!a.isEmpty()) throw fail(at, "REDUCE calls collections.OrderedDict with " + a.size() + " arguments; torch.save passes none");
                yield new Dict(true);
            }
            case REBUILD_TENSOR -> {
                // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
                boolean fits = (a.size() == 6 || a.size() == 7) && a.get(0) instanceof Storage && a.get(1) instanceof Long
                        && a.get(2) instanceof Tuple && a.get(3) instanceof Tuple && a.get(4) instanceof Boolean && isEmptyDict(a.get(5))
                        && (a.size() == 6 || isEmptyDict(a.get(6)));
                if (!fits) throw fail(at, "REDUCE calls " + c + " with " + describe(args) + ", not (storage, offset, size, stride, requires_grad, no hooks)");
                long[] shape = ints(at, "size", (Tuple) a.get(2));
                long[] strides = ints(at, "stride", (Tuple) a.get(3));
                if (shape.length != strides.length) throw fail(at, "a tensor of " + shape.length + " dimensions with " + strides.length + " strides");
                yield new Rebuilt((Storage) a.get(0), (Long) a.get(1), shape, strides);
            }
            case REBUILD_PARAMETER -> {
                // (data, requires_grad, backward_hooks)
                if (a.size() != 3 || !(a.get(0) instanceof Rebuilt) || !(a.get(1) instanceof Boolean) || !isEmptyDict(a.get(2))) {
                    throw fail(at, "REDUCE calls " + c + " with " + describe(args) + ", not (tensor, requires_grad, no hooks)");
                }
                yield a.get(0);
            }
        };
    }

    /** {@code ('storage', storage_type, key, location, numel)}, as torch/serialization.py's persistent_id writes it. */
    private Storage storage(int at, Object id) {
        if (!(id instanceof Tuple(List<Object> t)) || t.size() != 5 || !"storage".equals(t.get(0)) || !(t.get(1) instanceof StorageType type)
                || !(t.get(2) instanceof String key) || !(t.get(3) instanceof String) || !(t.get(4) instanceof Long numel) || numel < 0) {
            throw fail(at, "persistent id " + describe(id) + " is not ('storage', storage type, key, location, element count)");
        }
        Storage s = new Storage(type, key, numel);
        Storage earlier = storages.putIfAbsent(key, s);
        if (earlier != null && !earlier.equals(s)) {
            throw fail(at, "storage " + key + " is " + type + " of " + numel + " elements here and " + earlier.type() + " of " + earlier.numel() + " before");
        }
        return s;
    }

    // ---- stack and memo

    private void put(int at, Op op, Object key, Object value) {
        if (!(stack.peek() instanceof Dict d)) throw fail(at, op + " into a " + describe(stack.peek()) + ", not a dict");
        if (!(key instanceof String) && !(key instanceof Long)) throw fail(at, op + " with a " + describe(key) + " key; a state dict's keys are strings");
        d.items.put(key, value);
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(int at, Op op) {
        if (!(stack.peek() instanceof ArrayList<?> l)) throw fail(at, op + " to a " + describe(stack.peek()) + ", not a list");
        return (List<Object>) l;
    }

    private void remember(int at, long index) {
        if (stack.size() == openMark()) throw fail(at, "nothing on the stack to memoize");
        memo.put(index, stack.peek());
    }

    private int openMark() {
        return marks.isEmpty() ? 0 : marks.peek();
    }

    /** Fails unless the stack holds {@code n} values above the innermost mark. */
    private void need(int at, Op op, int n) {
        if (stack.size() - openMark() < n) throw fail(at, op + " needs " + n + " values on the stack, there are " + (stack.size() - openMark()));
    }

    private List<Object> popToMark(int at, Op op) {
        if (marks.isEmpty()) throw fail(at, op + " without a MARK");
        int mark = marks.pop();
        Object[] items = new Object[stack.size() - mark];
        for (int i = items.length - 1; i >= 0; i--) items[i] = stack.pop();
        return List.of(items);
    }

    private long[] ints(int at, String what, Tuple t) {
        long[] out = new long[t.items().size()];
        for (int i = 0; i < out.length; i++) {
            if (!(t.items().get(i) instanceof Long v)) throw fail(at, "a tensor's " + what + " holds a " + describe(t.items().get(i)));
            out[i] = v;
        }
        return out;
    }

    private static boolean isEmptyDict(Object o) {
        return o instanceof Dict d && d.items.isEmpty();
    }

    /** What a value is, for messages: its type, never its contents (which may be huge or cyclic). */
    static String describe(Object o) {
        return switch (o) {
            case null -> "nothing";
            case String _ -> "str";
            case Long _ -> "int";
            case Double _ -> "float";
            case Boolean _ -> "bool";
            case PyNone _ -> "None";
            case Tuple(List<Object> items) -> "tuple of " + items.size();
            case ArrayList<?> _ -> "list";
            case Dict d -> d.ordered ? "OrderedDict" : "dict";
            case Callable c -> c.toString();
            case StorageType t -> t.toString();
            case Storage _ -> "storage";
            case Rebuilt _ -> "tensor";
            default -> o.getClass().getSimpleName();
        };
    }

    // ---- reading bytes

    private int u8(int at, String what) {
        if (pos >= pickle.length) throw fail(at, "the pickle ends where " + what + " should be (truncated data.pkl?)");
        return pickle[pos++] & 0xff;
    }

    private long u32(int at) {
        return Integer.toUnsignedLong(ByteBuffer.wrap(bytes(at, 4)).order(ByteOrder.LITTLE_ENDIAN).getInt());
    }

    private byte[] bytes(int at, long n) {
        if (n > pickle.length - pos) throw fail(at, "the pickle ends " + (pickle.length - pos) + " bytes into the " + n + " this opcode needs (truncated data.pkl?)");
        byte[] out = Arrays.copyOfRange(pickle, pos, pos + (int) n);
        pos += (int) n;
        return out;
    }

    private String string(int at, long length) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes(at, length))).toString();
        } catch (CharacterCodingException e) {
            throw fail(at, "a string that is not UTF-8");
        }
    }

    /** GLOBAL's arguments: a line of text each. */
    private String line(int at) {
        int end = pos;
        while (end < pickle.length && pickle[end] != '\n') end++;
        if (end == pickle.length) throw fail(at, "GLOBAL's module and name run to the end of the pickle (truncated data.pkl?)");
        String s = new String(pickle, pos, end - pos, StandardCharsets.UTF_8);
        pos = end + 1;
        return s;
    }

    /** LONG1: a length byte, then that many bytes of a little-endian two's-complement integer. */
    private long long1(int at) {
        int n = u8(at, "a length");
        if (n > MAX_LONG1_BYTES) throw fail(at, "an integer of " + n + " bytes, wider than any size or offset");
        byte[] b = bytes(at, n);
        long v = 0;
        for (int i = n - 1; i >= 0; i--) v = v << 8 | (b[i] & 0xff);
        if (n > 0 && n < MAX_LONG1_BYTES && b[n - 1] < 0) v -= 1L << (8 * n); // sign
        return v;
    }

    private ShearsException fail(int at, String problem) {
        return Printable.error(where + " byte " + at + ": " + problem);
    }
}
