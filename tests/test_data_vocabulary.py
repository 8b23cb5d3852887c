import json

import pytest

from seqrnn import registry
from seqrnn.data.symbols import SymbolVocab
from seqrnn.data.text import CharVocab
from seqrnn.data.vocab import WordVocab
from seqrnn.data.vocabulary import Vocabulary

# Each class's JSON as run folders written before this protocol hold it: they must still load.
ON_DISK = {
    WordVocab: ({"kind": "word", "pad_id": 0, "unk_id": 1, "words": ["the", "movie"]},
                ["movie", "the"], [3, 2], 4),
    CharVocab: ({"chars": ["\n", "a", "b"]}, "ab\n", [1, 2, 0], 3),
    SymbolVocab: ({"kind": "symbols", "pad_id": 0, "bos_id": 1, "eos_id": 2,
                   "symbols": ["AH", "K"]}, ["K", "AH"], [4, 3], 5),
}


@pytest.mark.parametrize("cls", list(ON_DISK))
def test_every_vocabulary_reads_its_old_json_and_round_trips_through_one_protocol(cls):
    data, tokens, ids, size = ON_DISK[cls]
    vocab = cls.from_dict(json.loads(json.dumps(data)))
    assert isinstance(vocab, Vocabulary)
    assert list(vocab.encode(tokens)) == ids
    decoded = vocab.decode(ids)
    assert (decoded if isinstance(decoded, str) else list(decoded)) == tokens
    assert vocab.to_dict() == data  # written back byte for byte as before
    assert len(vocab) == size  # the ids the model's embedding has rows for
    assert not hasattr(vocab, "save") and not hasattr(cls, "load")  # one way: the run folder


def test_every_kind_names_vocabularies_of_the_protocol():
    for kind in registry.kinds():
        for cls, _size in kind.training_recipe().vocabularies.values():
            assert issubclass(cls, Vocabulary), (kind.name, cls)
