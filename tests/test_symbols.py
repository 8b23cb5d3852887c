import pytest

from seqrnn.data.symbols import BOS_ID, EOS_ID, FIRST_SYMBOL_ID, PAD_ID, SymbolVocab
from seqrnn.errors import UserError


def test_ids_are_sorted_symbols_after_the_three_reserved_ones():
    vocab = SymbolVocab.build([("K", "AE", "T"), ("AE", "T")])
    assert vocab.symbols == ("AE", "K", "T") and len(vocab) == FIRST_SYMBOL_ID + 3
    assert (PAD_ID, BOS_ID, EOS_ID) == (0, 1, 2)
    assert vocab.encode(("K", "AE", "T")) == [4, 3, 5]
    assert vocab.decode([BOS_ID, 4, 3, PAD_ID, 5, EOS_ID, 3]) == ["K", "AE", "T"]
    assert SymbolVocab.from_dict(vocab.to_dict()) == vocab


def test_a_symbol_never_seen_is_refused_by_name():
    vocab = SymbolVocab.build(["abc"])
    with pytest.raises(UserError, match=r"the source 'abz!' has symbols the model never saw: "
                                        r"\['!', 'z'\]"):
        vocab.encode(tuple("abz!"))
    for damaged in ({}, {"symbols": "abc"}, {"symbols": ["a", "a"]}, {"symbols": [""]}):
        with pytest.raises(UserError, match="damaged"):
            SymbolVocab.from_dict(damaged)


def test_a_reordered_saved_vocabulary_is_refused():
    vocab = SymbolVocab.build(["cab"])
    assert SymbolVocab.from_dict(vocab.to_dict()) == vocab
    with pytest.raises(UserError, match=r"damaged \(the symbols are not in sorted order\)"):
        SymbolVocab.from_dict({**vocab.to_dict(), "symbols": ["b", "a", "c"]})
