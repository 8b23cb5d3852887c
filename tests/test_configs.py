"""The torch-free configuration dataclasses and their validation."""

import subprocess
import sys
from dataclasses import asdict

import pytest

from seqrnn.configs import (
    RESUMABLE,
    CharLMConfig,
    GradientStudyConfig,
    Sampling,
    SentimentConfig,
    SentimentData,
    ServeLimits,
    TrainConfig,
    WordLMConfig,
    require_choice,
    require_seed,
    resumed_loop,
)
from seqrnn.errors import UserError, flag


def test_configs_import_no_torch():
    code = "import seqrnn.configs, sys; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_resumed_loop_changes_only_the_budget():
    saved = TrainConfig(epochs=3, lr=2e-3)
    config = resumed_loop(saved, epochs=7, minutes=1.5)
    assert config.epochs == 7 and config.minutes == 1.5 and config.lr == 2e-3


def test_resumed_loop_refuses_training_changes_with_the_flag_name():
    saved = TrainConfig()
    with pytest.raises(UserError, match="drop clip_norm, lr") as caught:
        resumed_loop(saved, lr=1.0, clip_norm=2.0)
    assert caught.value.fields == ("clip_norm", "lr")
    assert caught.value.render(flag).endswith("drop --clip-norm, --lr")


def test_resumable_fields_exist_on_the_loop_config():
    assert set(asdict(TrainConfig())) >= RESUMABLE


@pytest.mark.parametrize("make, field", [
    (lambda: TrainConfig(lr=0.0), "lr"),
    (lambda: TrainConfig(device="tpu"), "device"),
    (lambda: TrainConfig(min_lr_fraction=2.0), "min_lr_fraction"),
    (lambda: CharLMConfig(vocab_size=10, cell="transformer"), "cell"),
    (lambda: SentimentConfig(vocab_size=10, head="attention"), "head"),
    (lambda: SentimentConfig(vocab_size=10, word_dropout=1.0), "word_dropout"),
    (lambda: ServeLimits(max_review_chars=0), "max_review_chars"),
])
def test_bad_values_are_user_errors_naming_the_field(make, field):
    with pytest.raises(UserError, match=field) as caught:
        make()
    assert caught.value.field == field
    assert flag(field) in caught.value.render(flag)


def test_the_command_line_reads_the_messages_it_always_printed():
    with pytest.raises(UserError) as caught:
        TrainConfig(epochs=0)
    assert str(caught.value) == "epochs must be positive, got 0"
    assert caught.value.render(flag) == "--epochs must be positive, got 0"
    with pytest.raises(UserError) as caught:
        TrainConfig(eval_every=-1)
    assert caught.value.fields == ("eval_every", "warmup_steps")
    assert caught.value.render(flag) == "--eval-every and --warmup-steps must be zero or positive"
    with pytest.raises(UserError, match="at least 1") as caught:
        ServeLimits(max_prime_chars=0)
    assert caught.value.render(flag) == "--max-prime-chars must be at least 1, got 0"


def test_the_vocabulary_size_is_named_in_words_no_flag_sets_it():
    with pytest.raises(UserError) as caught:
        CharLMConfig(vocab_size=0)
    assert caught.value.field == "vocab_size"
    assert caught.value.render(flag) == str(caught.value) == "vocab size must be positive, got 0"


def test_require_choice_lists_the_choices():
    with pytest.raises(UserError, match="lstm, gru"):
        require_choice("cell", "x", ("lstm", "gru"))


@pytest.mark.parametrize(
    "bad, message, field",
    [
        ({"steps": 0}, "steps", "steps"),
        ({"hidden_size": -1}, "hidden size", "hidden_size"),
        ({"radii": (0.5, -1.0)}, "radius", "radii"),
        ({"radii": (0.5, 0.5)}, "once", "radii"),
        ({"forget_biases": (1.0, 1.0)}, "forget bias", "forget_biases"),
        ({"lstm_radius": -0.1}, "LSTM radius", "lstm_radius"),
        ({"elman_input_scale": -1.0}, "input scale", "elman_input_scale"),
        ({"radii": (), "forget_biases": ()}, "nothing to measure", "radii"),
    ],
)
def test_impossible_gradient_studies_are_user_errors(bad, message, field):
    with pytest.raises(UserError, match=message) as caught:
        GradientStudyConfig(**bad)
    assert caught.value.field == field
    assert caught.value.render(flag) == str(caught.value)  # worded as the command prints it


def test_adaptive_softmax_cutoffs_must_increase_and_stay_below_the_vocabulary():
    from seqrnn.configs import WordLMConfig

    assert WordLMConfig(vocab_size=10, cutoffs=[3, 6]).cutoffs == (3, 6)  # JSON gives a list
    with pytest.raises(UserError, match=r"cutoffs must increase from above 0, got \[5, 3\]"):
        WordLMConfig(vocab_size=10, cutoffs=(5, 3))
    with pytest.raises(UserError, match="cutoffs must stay below the vocabulary's 10 words"):
        WordLMConfig(vocab_size=10, cutoffs=(3, 10))


@pytest.mark.parametrize(("fields", "message"), [
    ({"lr": float("nan")}, "lr must be a finite number, got nan"),
    ({"lr": float("inf")}, "lr must be a finite number, got inf"),
    ({"clip": float("nan")}, "clip must be a finite number, got nan"),
    ({"minutes": float("inf")}, "minutes must be a finite number, got inf"),
    ({"weight_decay": float("nan")}, "weight_decay must be a finite number, got nan"),
    # finite, but not in float32: the optimizer's step overflowed with a traceback
    ({"lr": 1e300}, "lr must be at most 3.4e+38 in size (the models compute in float32), got "
                    "1e+300"),
    ({"weight_decay": -1e39}, "weight_decay must be at most 3.4e+38 in size (the models "
                              "compute in float32), got -1e+39"),
    ({"seed": -1}, "seed must be between 0 and 4294967295, got -1"),
    ({"seed": 2**32}, "seed must be between 0 and 4294967295, got 4294967296"),
])
def test_train_config_refuses_numbers_out_of_range(fields, message):
    with pytest.raises(UserError) as error:
        TrainConfig(**fields)
    assert str(error.value) == message and error.value.field == next(iter(fields))


def test_a_table_cannot_train_on_its_own_labels():
    with pytest.raises(UserError, match="text_column and label_column are both 'label': the "
                                        "model would read its own labels") as error:
        SentimentData(text_column="label", label_column="label")
    assert error.value.fields == ("text_column", "label_column")


@pytest.mark.parametrize(("changes", "fields"), [
    ({"test_fraction": float("inf")}, ("test_fraction",)),
    ({"test_fraction": -0.1}, ("test_fraction",)),
    ({"val_fraction": 0.5, "test_fraction": 0.5}, ("val_fraction", "test_fraction"))])
def test_a_tables_test_fraction_is_checked_with_the_config(changes, fields):
    with pytest.raises(UserError) as error:
        SentimentData(**changes)
    assert error.value.fields == fields and "\n" not in str(error.value)


def test_numpy_scalars_become_the_python_numbers_the_fields_declare():
    np = pytest.importorskip("numpy")
    loop = TrainConfig(epochs=np.int64(3), lr=np.float32(0.5), minutes=np.int32(2),
                       amp=np.bool_(True), seed=np.uint8(7))
    assert asdict(loop)["epochs"] == 3 and type(loop.epochs) is int
    assert type(loop.lr) is float and type(loop.minutes) is float and loop.minutes == 2.0
    assert loop.amp == "on" and type(loop.seed) is int
    lm = WordLMConfig(np.int64(100), cutoffs=np.array([10, 50]))
    assert lm.cutoffs == (10, 50) and all(type(c) is int for c in lm.cutoffs)
    assert GradientStudyConfig(radii=[np.float64(0.5)]).radii == (0.5,)
    assert require_seed(np.int64(1)) == 1 and type(require_seed(np.int64(1))) is int


@pytest.mark.parametrize("value", [True, "8", 8.5, None, [8]])
def test_a_value_of_another_type_is_a_user_error_naming_the_field(value):
    with pytest.raises(UserError) as error:
        CharLMConfig(vocab_size=5, hidden_size=value)
    assert error.value.field == "hidden_size"
    assert error.value.render(flag).startswith("--hidden-size must be a whole number, got ")
    with pytest.raises(UserError, match="^lr must be a number, got True$"):
        TrainConfig(lr=True)
    with pytest.raises(UserError, match="^amp must be a string, got 1$"):
        TrainConfig(amp=1)
    with pytest.raises(UserError, match="^lr must be a finite number, got inf$"):
        TrainConfig(lr=10**400)  # no float holds it
    with pytest.raises(UserError, match="^seed must be a whole number, got '1'$"):
        require_seed("1")


@pytest.mark.parametrize(("make", "field", "message"), [
    (lambda: SentimentData(data=5), "data", "data must be a string, got 5"),
    (lambda: SentimentData(pretrained=3), "pretrained", "pretrained must be a string, got 3"),
    (lambda: Sampling(stop=[5]), "stop", "stop must be a list of strings, got [5]"),
    (lambda: Sampling(stop=5), "stop", "stop must be a list of strings, got 5"),
    (lambda: WordLMConfig(100, cutoffs="ab"), "cutoffs", "cutoffs must be a list of whole numbers"
     ", got 'ab'"),
])
def test_a_string_field_takes_only_strings_and_a_list_names_its_items(make, field, message):
    with pytest.raises(UserError) as error:
        make()
    assert error.value.field == field and error.value.render(str) == message


def test_one_stop_string_is_one_stop_not_a_set_of_characters():
    assert Sampling(stop="ee").stop == ("ee",)
    assert Sampling(stop=["ee", "x"]).stop == ("ee", "x")


def test_amp_is_auto_by_default_and_a_saved_true_or_false_reads_as_on_or_off():
    assert TrainConfig().amp == "auto"
    assert (TrainConfig(amp=True).amp, TrainConfig(amp=False).amp) == ("on", "off")  # old runs
    with pytest.raises(UserError, match="^unknown amp 'fast': use one of auto, on, off$"):
        TrainConfig(amp="fast")


@pytest.mark.parametrize(("vocab_size", "cutoffs"), [(100, ()), (2000, ()), (2001, (2000,)),
                                                     (30000, (2000, 10000))])
def test_the_default_adaptive_softmax_takes_the_cutoffs_below_the_vocabulary(vocab_size,
                                                                            cutoffs):
    config = WordLMConfig(vocab_size)
    assert config.cutoffs == cutoffs
    assert WordLMConfig(**asdict(config)) == config  # saved resolved, read back the same
    assert WordLMConfig(30000, cutoffs=()).cutoffs == ()  # a full softmax, asked for
