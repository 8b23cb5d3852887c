import pytest

from seqrnn import budget
from seqrnn.configs import CharLMConfig, Seq2SeqConfig
from seqrnn.errors import UserError
from tests.wording import raises_as_cli


def test_sizes_are_read_with_their_units():
    assert budget.parse_size("1000", "X") == 1000
    assert budget.parse_size("512M", "X") == 512 * 2**20
    assert budget.parse_size("1.5GiB", "X") == 3 * 2**29
    assert budget.parse_size(" 2 t ", "X") == 2 * 2**40
    for bad in ("", "-1G", "0", "lots", "1Q"):
        with pytest.raises(UserError, match=f"X must be a positive size such as 8G or 512M, "
                           f"got {bad!r}"):
            budget.parse_size(bad, "X")


def test_the_budget_is_the_available_memory_unless_set(monkeypatch):
    monkeypatch.delenv("SEQRNN_MEMORY_LIMIT", raising=False)
    available = budget.available_memory()
    assert available is not None and available > 0
    assert 0 < budget.memory_limit() <= available
    monkeypatch.setenv("SEQRNN_MEMORY_LIMIT", "8G")
    assert budget.memory_limit() == 8 * 2**30
    assert budget.input_limit() == 8 * 2**30 // budget.INPUT_EXPANSION


def test_check_memory_names_the_fields_to_lower(monkeypatch):
    monkeypatch.setenv("SEQRNN_MEMORY_LIMIT", "1G")
    budget.check_memory(2**30, "x", "lower {length}", fields=("length",))  # just fits
    with raises_as_cli(r"^sampling would need at least 2\.0 GiB of memory, more than the 1\.0 "
                       r"GiB available: lower --length \(or raise SEQRNN_MEMORY_LIMIT\)$"):
        budget.check_memory(2**31, "sampling", "lower {length}", fields=("length",))


def test_training_counts_weights_activations_and_depth(monkeypatch):
    monkeypatch.setenv("SEQRNN_MEMORY_LIMIT", "1G")
    config = CharLMConfig(vocab_size=65)  # 1 LSTM layer of 128 units
    budget.check_training(config, (64, 100, "num_steps"))  # the lecture's: about 25 MB
    # 4 copies of 4 x 128 x 128 weights, and per step and row (4 gates + 2) x 128 kept
    assert budget.estimated_weights(config) == 4 * 128 * 128  # one-hot input: no table
    assert budget.kept_per_step(config) == 6 * 128
    assert budget.training_bytes(4 * 128 * 128, 64, 100, 6 * 128) == \
        4 * (4 * 4 * 128 * 128 + 64 * 100 * 6 * 128)
    embedded = CharLMConfig(vocab_size=65, input="embedding", embedding_dim=64)
    assert budget.estimated_weights(embedded) == 4 * 128 * 128 + 65 * 64  # the table
    assert budget.kept_per_step(embedded) == 6 * 128 + 2 * 64  # each step's embedding, gradient
    with raises_as_cli(r"batches of 100 x 100,000,000 steps would need at least .* TiB.*choose "
                       r"a smaller --batch-size, --seq-len, --hidden-size or --num-layers"):
        budget.check_training(config, (100, 100_000_000, "seq_len"))
    with raises_as_cli("--num-layers 101 is more than the 100 layers seqrnn builds"):
        budget.check_training(CharLMConfig(vocab_size=65, num_layers=101), None)
    translator = Seq2SeqConfig(source_vocab_size=30, target_vocab_size=40)
    with raises_as_cli(r"model of 1,000,000 units would .*choose a smaller --hidden-size or "
                       r"--num-layers \("):
        budget.check_training(CharLMConfig(vocab_size=65, hidden_size=10**6), None)  # weights
    with raises_as_cli("--max-length"):
        budget.check_training(translator, (64, 2 * 10**7, "max_length"))


def test_once_the_data_is_read_the_built_models_weights_are_counted(monkeypatch):
    """The vocabulary's output layer and tables, which the config's estimate cannot see, are
    counted on the meta device: nothing is allocated, on any device."""
    from types import SimpleNamespace

    import torch

    monkeypatch.setenv("SEQRNN_MEMORY_LIMIT", "1G")
    config = CharLMConfig(vocab_size=65)
    budget.check_training(config, (64, 100, "num_steps"),
                          build=lambda: torch.nn.Linear(128, 65))
    with raises_as_cli(r"^training a 1-layer model of 128 units on batches of 64 x 100 steps "
                       r"would need at least 1\.9 GiB"):  # 128 x 10^6 weights, 4 copies
        budget.check_training(config, (64, 100, "num_steps"),
                              build=lambda: torch.nn.Linear(128, 10**6))
    with raises_as_cli(r"^training a model of 129,000,000 weights would need at least 1\.9 GiB.*: "
                       r"choose smaller sizes"):  # a task of the user's own, without sizes
        budget.check_training(SimpleNamespace(), None, build=lambda: torch.nn.Linear(128, 10**6))
    with raises_as_cli("the model is far too large for any machine"):
        budget.check_training(config, None, build=lambda: torch.nn.Linear(10**12, 10**12))


def test_generation_counts_streams_beams_and_lengths(monkeypatch):
    monkeypatch.setenv("SEQRNN_MEMORY_LIMIT", "1G")
    config = CharLMConfig(vocab_size=65)
    budget.check_generation_memory(config, 4, 500, 100)
    with raises_as_cli(r"generating 1,000,000,000 texts of 5 tokens .* lower --num-samples or "
                       r"--length"):
        budget.check_generation_memory(config, 4, 5, 10**9)
    with raises_as_cli(r"^generating 1 texts of 100,000,000 tokens .* lower --length \("):
        budget.check_generation_memory(config, 4, 10**8, 1)
    with raises_as_cli(r"a beam of 64 hypotheses of 10,000,000 tokens .* lower --beam or "
                       r"--length"):
        budget.check_generation_memory(config, 4, 10**7, 1, beam=64)


def test_gradient_studies_count_their_matrices_and_steps(monkeypatch):
    monkeypatch.setenv("SEQRNN_MEMORY_LIMIT", "1G")
    budget.check_gradient_study(32, 100, 6)
    with raises_as_cli("a gradient study of 100,000 units over 100 steps .* lower "
                       "--hidden-size or --steps"):
        budget.check_gradient_study(100_000, 100, 6)
    with raises_as_cli("over 100,000,000 steps"):
        budget.check_gradient_study(32, 100_000_000, 6)


def test_training_on_a_gpu_is_held_to_its_free_memory(monkeypatch):
    import torch

    monkeypatch.delenv("SEQRNN_MEMORY_LIMIT", raising=False)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (2**30, 80 * 2**30))
    cuda = torch.device("cuda")
    assert budget.memory_limit(cuda) == 2**30
    config = CharLMConfig(vocab_size=65)
    budget.check_training(config, (64, 100, "num_steps"), cuda)
    with raises_as_cli(r"at least 1\.3 GiB of memory, more than the 1\.0 GiB available"):
        budget.check_training(config, (64, 7000, "num_steps"), cuda)
    budget.check_training(config, (64, 7000, "num_steps"))  # the host has more
    with raises_as_cli(r"at least 1\.9 GiB of memory, more than the 1\.0 GiB available"):
        budget.check_training(config, (64, 100, "num_steps"), cuda,  # once the data is read
                              build=lambda: torch.nn.Linear(128, 10**6))
