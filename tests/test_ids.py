"""Ids given to a vocabulary's tokens in order: the one check the word and symbol vocabularies
share."""

import pytest

from seqrnn.data.ids import index_tokens
from seqrnn.data.symbols import FIRST_SYMBOL_ID, SymbolVocab
from seqrnn.data.vocab import FIRST_WORD_ID, WordVocab


def test_tokens_get_ids_in_order_from_the_first_id():
    tokens, ids = index_tokens(iter(["b", "a", "c"]), 3, "symbol")
    assert tokens == ("b", "a", "c")
    assert ids == {"b": 3, "a": 4, "c": 5}


@pytest.mark.parametrize("tokens, message", [
    (["a", ""], "a word vocabulary must list non-empty strings"),
    (["a", 1], "a word vocabulary must list non-empty strings"),
    (["a", "b", "a"], "a word vocabulary must not list a word twice"),
])
def test_a_bad_token_list_is_refused_naming_the_vocabulary(tokens, message):
    with pytest.raises(ValueError, match=message):
        index_tokens(tokens, 2, "word")


def test_both_vocabularies_share_the_check_and_their_own_first_ids():
    assert WordVocab(("the", "a"))._ids == {"the": FIRST_WORD_ID, "a": FIRST_WORD_ID + 1}
    assert SymbolVocab(("a", "b"))._ids == {"a": FIRST_SYMBOL_ID, "b": FIRST_SYMBOL_ID + 1}
    for vocab, what in ((WordVocab, "word"), (SymbolVocab, "symbol")):
        with pytest.raises(ValueError, match=f"must not list a {what} twice"):
            vocab(("x", "x"))
    with pytest.raises(ValueError, match="at least one symbol"):
        SymbolVocab(())
