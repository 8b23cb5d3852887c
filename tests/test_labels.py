import json

import numpy as np
import pytest

from seqrnn.data.labels import LabeledTexts, LabelMap, split_balanced
from seqrnn.errors import UserError
from tests.wording import raises_as_cli


@pytest.mark.parametrize(
    ("values", "negative"),
    [
        (["pos", "neg"], "neg"),
        (["Positive", "NEGATIVE"], "NEGATIVE"),
        (["1", "0"], "0"),
        (["1", "-1"], "-1"),
        (["true", "false"], "false"),
        (["good", "bad"], "bad"),
        (["2", "10"], "2"),  # numbers by value, not as strings
        (["4", "0"], "0"),
        (["spam", "ham"], "ham"),  # anything else in sorted order
        (["happy", "sad"], "happy"),
    ],
)
def test_label_map_inference(values, negative):
    label_map = LabelMap.infer(values * 3, where="data")
    assert label_map.negative == negative
    assert set(label_map.names) == set(values)
    assert label_map.encode(negative) == 0 and label_map.decode(1) == label_map.positive


def test_label_map_json_round_trip():
    label_map = LabelMap(negative="bad", positive="good")
    assert LabelMap.from_dict(json.loads(json.dumps(label_map.to_dict()))) == label_map
    with pytest.raises(UserError, match="label map"):
        LabelMap.from_dict({"negative": "bad"})


def labeled(n_negative: int, n_positive: int) -> LabeledTexts:
    labels = np.array([0] * n_negative + [1] * n_positive, dtype=np.int64)
    return LabeledTexts(
        texts=[f"review {i}" for i in range(len(labels))],
        labels=labels,
        label_map=LabelMap("0", "1"),
    )


def test_split_balanced_sizes_balance_and_determinism():
    data = labeled(300, 100)
    rest, held = split_balanced(data, 0.1, seed=3)
    assert held.class_counts() == (30, 10) and rest.class_counts() == (270, 90)
    assert sorted(rest.texts + held.texts) == sorted(data.texts)
    assert not set(rest.texts) & set(held.texts)
    # Both parts keep the order of the data, and texts keep their labels.
    numbers = [int(text.split()[1]) for text in held.texts]
    assert numbers == sorted(numbers)
    assert held.labels.tolist() == [int(n >= 300) for n in numbers]
    _, held_again = split_balanced(data, 0.1, seed=3)
    assert held_again.texts == held.texts
    assert split_balanced(data, 0.1, seed=4)[1].texts != held.texts
    assert held.skipped_empty == 0


def test_split_balanced_holds_out_whole_groups():
    rng = np.random.default_rng(0)
    sizes = rng.integers(1, 31, 200)  # like IMDb: up to 30 reviews of one movie
    groups = np.repeat(np.arange(200), sizes)
    labels = rng.integers(0, 2, len(groups))
    data = LabeledTexts(texts=[f"review {i}" for i in range(len(groups))], labels=labels,
                        label_map=LabelMap("0", "1"), groups=groups)
    rest, held = split_balanced(data, 0.1, seed=3)
    assert not set(held.groups) & set(rest.groups)
    targets = [round(0.1 * n) for n in data.class_counts()]
    assert all(0.9 * t <= n <= t for n, t in zip(held.class_counts(), targets, strict=True))
    assert len(rest) + len(held) == len(data)
    assert split_balanced(data, 0.1, seed=3)[1].texts == held.texts


def test_split_balanced_edge_cases():
    data = labeled(5, 5)
    rest, held = split_balanced(data, 0.0)
    assert len(rest) == 10 and len(held) == 0
    with raises_as_cli("--val-fraction must be at least 0 and below 1"):
        split_balanced(data, 1.0)
    with raises_as_cli(r"--test-fraction 0.05 of the 5 examples labeled '0'"):
        split_balanced(data, 0.05, field="test_fraction")


def test_a_label_mapping_reads_a_files_values_as_the_models_classes():
    from seqrnn.data.labels import mapped_labels, parse_label_mapping

    model = LabelMap(negative="neg", positive="pos")
    assert parse_label_mapping(" 0=neg, 1=pos ") == {"0": "neg", "1": "pos"}
    assert mapped_labels({"1": "pos", "0": "neg"}, model) == LabelMap(negative="0", positive="1")
    assert mapped_labels({"bad": "neg", "good": "pos"}, model).names == ("bad", "good")
    for text in ("0=neg", "0=neg,1=pos,2=pos", "0=,1=pos", "neg,pos", ""):
        with pytest.raises(UserError) as caught:
            parse_label_mapping(text)
        assert caught.value.field == "labels"
    with pytest.raises(UserError, match="one value of the file"):
        mapped_labels({"0": "neg", "1": "neg"}, model)
