package dev.shears.tokenizer;

/**
 * What a tokenizer driven by a table of pieces answers the same way, whatever its algorithm: the
 * pieces with their types, BOS/EOS ids and whether BOS is prepended. Subclasses fill the arrays they
 * pass in while they build their own tables.
 */
abstract class PieceTable implements Tokenizer {
    /** [vocabSize] the text of each piece. */
    protected final String[] pieces;
    /** [vocabSize] the role of each piece. */
    protected final PieceType[] types;
    private final int bosId;
    private final int eosId;
    private final boolean addBos;

    PieceTable(String[] pieces, PieceType[] types, int bosId, int eosId, boolean addBos) {
        this.pieces = pieces;
        this.types = types;
        this.bosId = bosId;
        this.eosId = eosId;
        this.addBos = addBos;
    }

    @Override
    public int vocabSize() {
        return pieces.length;
    }

    @Override
    public String piece(int id) {
        return pieces[id];
    }

    @Override
    public PieceType pieceType(int id) {
        return types[id];
    }

    @Override
    public int bosId() {
        return bosId;
    }

    @Override
    public int eosId() {
        return eosId;
    }

    @Override
    public boolean addsBos() {
        return addBos;
    }
}
