"""Data-parallel training: a real 2-process gloo job under torchrun, and its parts one by one.

The job (`ddp_runs`) is started once for the module: this file run as a script
by torchrun trains both tasks a few steps, stops, and resumes. Its weights
must equal those of one process trained on the same global batches.
"""

import csv
import json
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from seqrnn.api.charlm import LanguageModel
from seqrnn.api.sentiment import SentimentClassifier
from seqrnn.configs import (
    CharLMConfig,
    CharLMData,
    SentimentConfig,
    SentimentData,
    Seq2SeqData,
    TrainConfig,
    WordLMData,
)
from seqrnn.errors import UserError, flag
from seqrnn.models.charlm import CharLM
from seqrnn.models.sentiment import SentimentRNN
from seqrnn.recipes import base, charlm, sentiment, seq2seq, wordlm
from seqrnn.recipes.charlm import CharLMObjective, char_loss_sum
from seqrnn.recipes.sentiment import SentimentObjective
from seqrnn.recipes.stream import stream_loss
from seqrnn.run import LATEST_WEIGHTS, TRAIN_STATE, RunFolder
from seqrnn.trainer import Trainer
from seqrnn.trainer.distributed import Group, join
from seqrnn.trainer.optim import build_optimizers, dense_gradients_for_nccl

TEXT = "".join(f"{w} the cat sat on the mat.\n" for w in ["one", "two", "three", "four"] * 40)
LM_FLAGS = ["--batch-size", "4", "--num-steps", "16", "--eval-rows", "4", "--hidden-size", "32",
            "--dropout", "0", "--epochs", "1", "--lr", "0.01", "--seed", "3", "--quiet",
            "--sample-length", "0", "--amp", "off"]
# The runs compared are float32 (--amp off): under bfloat16 the ranks' sums round differently.
SENTIMENT_MODEL = {"hidden_size": 12, "embedding_dim": 12, "dropout": 0.0}
POSITIVE, NEGATIVE = ["great", "superb", "loved"], ["awful", "boring", "hated"]
FILLER = ["the", "movie", "was", "plot", "a", "and", "it"]
# Tiny, dropout-free (each rank draws its own masks), with an adaptive softmax whose tail
# clusters most steps leave unhit: DDP needs a gradient for every parameter anyway.
WORD_MODEL = {"embedding_dim": 8, "hidden_size": 16, "num_layers": 2, "cutoffs": [4, 10],
              "embedding_dropout": 0.0, "input_dropout": 0.0, "hidden_dropout": 0.0,
              "output_dropout": 0.0, "weight_dropout": 0.0}
LAUNCH_TIMEOUT_S = 180  # the whole job; a hang fails here, not in CI's global timeout


def lm_data(text_file) -> CharLMData:
    return CharLMData(text=str(text_file), batch_size=4, num_steps=16, eval_rows=4)


def lm_loop(**kw) -> TrainConfig:
    return TrainConfig(**{"epochs": 1, "lr": 1e-2, "seed": 3, "progress": False, "amp": "off",
                          **kw})


def sentiment_data(csv_file) -> SentimentData:
    return SentimentData(data=str(csv_file), batch_size=20)


def word_data(corpus: Path) -> WordLMData:
    return WordLMData(data=str(corpus), min_freq=1, max_vocab=None, batch_size=4, num_steps=8,
                      eval_rows=4)


def finetune_data(work: Path) -> SentimentData:
    return SentimentData(data=str(work / "reviews.csv"), batch_size=20,
                         pretrained=str(work / "wordlm"))


def finetune_loop(**kw) -> TrainConfig:
    """Gradual unfreezing: one more of the 4 layer groups trains each epoch (8 batches)."""
    return sentiment_loop(**{"unfreeze_epochs": 1, "epochs": 4, "max_steps": 26, **kw})


def sentiment_loop(**kw) -> TrainConfig:
    return TrainConfig(**{"epochs": 3, "lr": 1e-2, "seed": 2, "progress": False, "amp": "off",
                          **kw})


def write_pairs(path: Path) -> None:
    """Words and their reversals: targets of different lengths, so ranks hold unequal tokens."""
    words = [a + b * n for a in "abcd" for b in "abcd" for n in range(1, 5)]
    path.write_text("source\ttarget\n" + "".join(f"{w}\t{' '.join(reversed(w))}\n"
                                                 for w in words), encoding="utf-8")


def pairs_data(path: Path) -> Seq2SeqData:
    return Seq2SeqData(data=str(path), batch_size=8, val_fraction=0.2, test_fraction=0.1)


SEQ2SEQ_MODEL = {"hidden_size": 12, "embedding_dim": 6, "dropout": 0.0}


def write_corpus(folder: Path, n: int = 60) -> None:
    """Documents of the reviews' words, for the word language model."""
    rng = np.random.default_rng(1)
    folder.mkdir()
    for i in range(n):
        words = rng.choice(FILLER + (POSITIVE if i % 2 else NEGATIVE), size=rng.integers(5, 15))
        (folder / f"{i:03d}.txt").write_text(" ".join(words), encoding="utf-8")


def write_reviews(path: Path, n: int = 200) -> None:
    rng = np.random.default_rng(0)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["review", "sentiment"])
        for i in range(n):
            words = list(rng.choice(FILLER, size=rng.integers(2, 10)))
            words.insert(rng.integers(0, len(words) + 1),
                         rng.choice(POSITIVE if i % 2 else NEGATIVE))
            writer.writerow([" ".join(words), i % 2])


def latest(run_dir: Path) -> dict[str, torch.Tensor]:
    return RunFolder(run_dir).load_weights(LATEST_WEIGHTS)[0]


def assert_same_weights(a: Path, b: Path) -> None:
    wa, wb = latest(a), latest(b)
    assert wa.keys() == wb.keys()
    for name in wa:
        torch.testing.assert_close(wa[name], wb[name], atol=2e-5, rtol=1e-4, msg=name)


def evals(run_dir: Path) -> list[dict]:
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["kind"] == "eval"]


# -- what each torchrun process runs ------------------------------------------------


def distributed_job(work: Path) -> None:
    """Train each task 3 steps, keep a copy of that run, resume it further (every rank)."""
    from seqrnn.cli import main

    main_rank = os.environ["RANK"] == "0"
    lm = work / "lm"
    text = ["--text", str(work / "text.txt")]
    assert main(["charlm", "train", *text, *LM_FLAGS, "--max-steps", "3", "--out", str(lm)]) == 0
    if main_rank:
        shutil.copytree(lm, work / "lm_step3")
    assert main(["charlm", "train", "--resume", str(lm), "--max-steps", "6", "--quiet",
                 "--sample-length", "0"]) == 0
    runs = work / "sentiment"
    base.start(sentiment.RECIPE, sentiment_data(work / "reviews.csv"), SENTIMENT_MODEL,
               sentiment_loop(max_steps=3), runs)
    if main_rank:
        shutil.copytree(runs, work / "sentiment_step3")
    # across the end of the first epoch (8 batches):
    base.resume(sentiment.RECIPE, runs, max_steps=10)
    base.start(wordlm.RECIPE, word_data(work / "corpus"), WORD_MODEL, lm_loop(max_steps=3),
               work / "wordlm")
    base.start(sentiment.RECIPE, finetune_data(work), {"dropout": 0.0}, finetune_loop(),
               work / "finetuned")
    base.start(seq2seq.RECIPE, pairs_data(work / "pairs.tsv"), SEQ2SEQ_MODEL, lm_loop(max_steps=4),
               work / "seq2seq")


@pytest.fixture(scope="module")
def ddp_runs(tmp_path_factory) -> Path:
    if not torch.distributed.is_available():
        pytest.skip("this torch build has no torch.distributed")
    work = tmp_path_factory.mktemp("ddp")
    (work / "text.txt").write_text(TEXT, encoding="utf-8")
    write_reviews(work / "reviews.csv")
    write_corpus(work / "corpus")
    write_pairs(work / "pairs.tsv")
    env = {**os.environ, "SEQRNN_DIST_TIMEOUT": "60", "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               "--nproc_per_node=2", __file__, str(work)]
    done = subprocess.run(command, env=env, capture_output=True, text=True,
                          timeout=LAUNCH_TIMEOUT_S)
    assert done.returncode == 0, done.stderr[-3000:]
    return work


# -- the job against one process ----------------------------------------------------


def test_language_model_ddp_equals_one_process_on_the_global_batch(ddp_runs, tmp_path):
    text = ddp_runs / "text.txt"
    base.start(charlm.RECIPE, lm_data(text), {"hidden_size": 32, "dropout": 0.0},
               lm_loop(max_steps=3), tmp_path / "one3")
    base.start(charlm.RECIPE, lm_data(text), {"hidden_size": 32, "dropout": 0.0},
               lm_loop(max_steps=6), tmp_path / "one6")
    assert_same_weights(ddp_runs / "lm_step3", tmp_path / "one3")
    assert_same_weights(ddp_runs / "lm", tmp_path / "one6")  # resumed under DDP
    # Validation: the ranks' summed nats over their summed characters.
    ddp, one = evals(ddp_runs / "lm_step3")[-1], evals(tmp_path / "one3")[-1]
    assert ddp["step"] == one["step"] == 3
    assert ddp["val_loss"] == pytest.approx(one["val_loss"], abs=1e-5)


def test_only_rank_zero_wrote_the_run_folder(ddp_runs):
    records = [json.loads(line) for line in (ddp_runs / "lm" / "metrics.jsonl").open()]
    assert [r["step"] for r in records if r["kind"] == "eval"] == [3, 6]
    train = [r for r in records if r["kind"] == "train"]
    assert train == [] or len({r["step"] for r in train}) == len(train)  # no rank wrote twice
    assert not [p for p in (ddp_runs / "lm").iterdir() if p.name.endswith(".tmp")]
    state = RunFolder(ddp_runs / "lm").load_train_state()
    assert state["carried"]["h"].shape == (1, 4, 32)  # all batch_size rows: both ranks' state
    assert len(state["rng_ranks"]) == 2


def test_a_ddp_run_resumes_in_one_process_and_samples(ddp_runs, tmp_path):
    shutil.copytree(ddp_runs / "lm_step3", tmp_path / "cut")
    base.resume(charlm.RECIPE, tmp_path / "cut", max_steps=6)
    base.start(charlm.RECIPE, lm_data(ddp_runs / "text.txt"), {"hidden_size": 32, "dropout": 0.0},
               lm_loop(max_steps=6), tmp_path / "one6")
    assert_same_weights(tmp_path / "cut", tmp_path / "one6")
    lm = LanguageModel.load(ddp_runs / "lm")
    sample = lm.sample("one the ", 30, seed=1)
    assert sample.startswith("one the ") and len(sample) == 38 and set(sample) <= set(TEXT)


def test_sentiment_ddp_equals_one_process_and_predicts(ddp_runs, tmp_path):
    data = sentiment_data(ddp_runs / "reviews.csv")
    base.start(sentiment.RECIPE, data, SENTIMENT_MODEL, sentiment_loop(max_steps=3),
               tmp_path / "one3")
    base.start(sentiment.RECIPE, data, SENTIMENT_MODEL, sentiment_loop(max_steps=10),
               tmp_path / "one10")
    assert_same_weights(ddp_runs / "sentiment_step3", tmp_path / "one3")
    assert_same_weights(ddp_runs / "sentiment", tmp_path / "one10")
    ddp, one = evals(ddp_runs / "sentiment")[-1], evals(tmp_path / "one10")[-1]
    assert ddp["val_loss"] == pytest.approx(one["val_loss"], abs=1e-5)
    assert ddp["val_accuracy"] == one["val_accuracy"]
    clf = SentimentClassifier.load(ddp_runs / "sentiment")
    assert clf.predict(["it was superb", "boring"]).shape == (2,)
    assert np.allclose(clf.predict_proba(["the plot"]).sum(axis=1), 1)


def test_word_lm_ddp_equals_one_process(ddp_runs, tmp_path):
    base.start(wordlm.RECIPE, word_data(ddp_runs / "corpus"), WORD_MODEL, lm_loop(max_steps=3),
               tmp_path / "lm")
    assert_same_weights(ddp_runs / "wordlm", tmp_path / "lm")
    ddp, one = evals(ddp_runs / "wordlm")[-1], evals(tmp_path / "lm")[-1]
    assert ddp["val_loss"] == pytest.approx(one["val_loss"], abs=1e-5)


def test_seq2seq_ddp_equals_one_process_on_the_global_batch(ddp_runs, tmp_path):
    base.start(seq2seq.RECIPE, pairs_data(ddp_runs / "pairs.tsv"), SEQ2SEQ_MODEL,
               lm_loop(max_steps=4), tmp_path / "one")
    assert_same_weights(ddp_runs / "seq2seq", tmp_path / "one")
    ddp, one = evals(ddp_runs / "seq2seq")[-1], evals(tmp_path / "one")[-1]
    assert ddp["val_loss"] == pytest.approx(one["val_loss"], abs=1e-5)
    assert ddp["val_wer"] == pytest.approx(one["val_wer"])


def test_gradual_unfreezing_under_ddp_equals_one_process(ddp_runs, tmp_path):
    base.start(sentiment.RECIPE, finetune_data(ddp_runs), {"dropout": 0.0}, finetune_loop(),
               tmp_path / "one")
    assert_same_weights(ddp_runs / "finetuned", tmp_path / "one")
    start = RunFolder(ddp_runs / "wordlm").load_weights(LATEST_WEIGHTS)[0]
    tuned = latest(ddp_runs / "finetuned")
    # By the fourth epoch every group trains, the embedding (the lowest) included.
    assert not torch.equal(tuned["encoder.embedding.weight"], start["encoder.embedding.weight"])


# -- the parts, in one process -------------------------------------------------------


def test_lm_ranks_read_their_rows_of_the_single_process_batch():
    ids, val = np.arange(1000) % 7, np.arange(100) % 7
    data = CharLMData(batch_size=4, num_steps=5)
    one = CharLMObjective(ids, val, data)
    ranks = [CharLMObjective(ids, val, data, Group(rank=r, world_size=2)) for r in (0, 1)]
    assert one.num_batches(0) == ranks[0].num_batches(0) == ranks[1].num_batches(0) == 49
    for index in (0, 48):
        x, y = one.batch(0, index)
        parts = [task.batch(0, index) for task in ranks]
        assert parts[0][0].shape == (2, 5)
        assert torch.equal(torch.cat([p[0] for p in parts]), x)
        assert torch.equal(torch.cat([p[1] for p in parts]), y)


def test_lm_carried_state_is_split_by_rows_on_resume():
    ids, val = np.arange(1000) % 7, np.arange(100) % 7
    data = CharLMData(batch_size=4, num_steps=5)
    task = CharLMObjective(ids, val, data, Group(rank=1, world_size=2))
    h = torch.arange(24.0).view(1, 4, 6)  # (layers, batch_size, hidden)
    task.load_carried_state({"h": h, "c": -h})
    assert torch.equal(task.state[0], h[:, 2:]) and torch.equal(task.state[1], -h[:, 2:])


def test_batch_size_must_split_over_the_processes():
    with pytest.raises(UserError, match="batch_size 4 does not split evenly over 3 processes") \
            as error:
        CharLMObjective(np.arange(1000) % 7, np.arange(100) % 7, CharLMData(batch_size=4),
                   Group(rank=0, world_size=3))
    assert error.value.field == "batch_size"
    assert error.value.render(flag).startswith("--batch-size 4 does not split evenly")
    encoded = sentiment_encoded(30)
    with pytest.raises(UserError, match="batch_size 10 does not split evenly over 4"):
        SentimentObjective(encoded, encoded, SentimentData(batch_size=10), 1, Group(0, 4))


def test_validation_shares_add_up_to_the_whole():
    torch.manual_seed(0)
    model = CharLM(CharLMConfig(vocab_size=7, hidden_size=8, dropout=0.0)).eval()
    ids = torch.randint(0, 7, (403,))
    whole = stream_loss(model, char_loss_sum, ids, 10, 5)
    for ranks in (2, 3, 8):  # 8 ranks > 5 rows: some score nothing
        parts = [stream_loss(model, char_loss_sum, ids, 10, 5, Group(r, ranks))
                 for r in range(ranks)]
        assert sum(count for _, count in parts) == whole[1] == 400
        assert sum(total for total, _ in parts) == pytest.approx(whole[0], rel=1e-6)


def sentiment_encoded(n: int):
    from seqrnn.data.sequences import encode_texts
    from seqrnn.data.vocab import WordVocab

    texts = [" ".join(["good"] * (1 + i % 9)) for i in range(n)]
    vocab = WordVocab.build([t.split() for t in texts])
    return encode_texts(texts, vocab, np.arange(n) % 2)


@pytest.mark.parametrize("batching", ["bucket", "fixed"])
def test_sentiment_ranks_split_every_global_batch(batching):
    encoded = sentiment_encoded(47)  # batches of 10: the last has 7, cut to 6 for 2 ranks
    data = SentimentData(batch_size=10, batching=batching, seq_len=6)
    one = SentimentObjective(encoded, encoded, data, seed=5)
    ranks = [SentimentObjective(encoded, encoded, data, 5, Group(r, 2)) for r in (0, 1)]
    for epoch in (0, 1):
        assert ranks[0].num_batches(epoch) == ranks[1].num_batches(epoch) == 5
        for index in range(5):
            rows = one.train.indices(epoch)[index]
            parts = [task.batch(epoch, index) for task in ranks]
            assert len(parts[0][1]) == len(parts[1][1]) == len(rows) // 2
            labels = torch.cat([p[1] for p in parts])
            assert torch.equal(labels, one.batch(epoch, index)[1][: len(labels)])
    assert not np.array_equal(ranks[0].batches(0)[0], ranks[0].batches(1)[0])  # set_epoch


def test_outside_torchrun_a_process_is_alone(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    group = join(torch.device("cpu"))
    assert (group.rank, group.world_size, group.is_main, group.backend) == (0, 1, True, None)
    assert group.sum([1.5, 2.0]) == [1.5, 2.0]
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.delenv("RANK", raising=False)
    with pytest.raises(UserError, match="RANK is missing"):
        join(torch.device("cpu"))


def test_restarts_over_several_machines_need_a_store_per_attempt(monkeypatch):
    """The restart count cannot tell attempts apart across machines (an agent restarts
    without counting when another machine's workers failed first)."""
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("TORCHELASTIC_USE_AGENT_STORE", "True")
    monkeypatch.setenv("GROUP_WORLD_SIZE", "2")
    monkeypatch.setenv("TORCHELASTIC_MAX_RESTARTS", "3")
    with pytest.raises(UserError, match="--max-restarts over 2 machines needs "
                       "TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1"):
        join(torch.device("cpu"))
    monkeypatch.setenv("GROUP_WORLD_SIZE", "two")
    with pytest.raises(UserError, match="GROUP_WORLD_SIZE must be a whole number, got 'two'"):
        join(torch.device("cpu"))


def test_nccl_trains_sparse_embeddings_densely():
    model = SentimentRNN(SentimentConfig(vocab_size=30, embedding_dim=4, hidden_size=3))
    assert len(build_optimizers(model, TrainConfig(lr=1e-3))) == 2  # Adam + SparseAdam
    dense_gradients_for_nccl(model)
    assert len(build_optimizers(model, TrainConfig(lr=1e-3))) == 1
    model(torch.tensor([[3, 4, 5]])).sum().backward()
    assert not model.embedding.weight.grad.is_sparse
    assert model.config.sparse_embedding  # the saved config is unchanged


def test_a_nccl_run_does_not_resume_with_sparse_gradients(tmp_path):
    write_reviews(tmp_path / "r.csv", 60)
    data = sentiment_data(tmp_path / "r.csv")
    base.start(sentiment.RECIPE, data, SENTIMENT_MODEL, sentiment_loop(max_steps=1),
               tmp_path / "run")
    state = RunFolder(tmp_path / "run").load_train_state()
    state["optimizers"] = state["optimizers"][:1]  # what a NCCL run saves: Adam only
    torch.save(state, RunFolder(tmp_path / "run").file(TRAIN_STATE))
    with pytest.raises(UserError, match="sparse embedding gradients are made dense under NCCL"):
        base.resume(sentiment.RECIPE, tmp_path / "run", max_steps=2)


def test_bfloat16_autocast_trains(tmp_path):
    text = tmp_path / "text.txt"
    text.write_text(TEXT, encoding="utf-8")
    result = base.start(charlm.RECIPE, lm_data(text), {"hidden_size": 32, "dropout": 0.0},
                        lm_loop(max_steps=20, amp=True), tmp_path / "run").result
    assert result.step == 20 and result.best_eval["loss"] < np.log(20)  # below uniform guessing
    assert all(w.dtype == torch.float32 for w in latest(tmp_path / "run").values())


def test_one_process_keeps_its_own_results(tmp_path):
    """A Trainer given no group is the single-process trainer it always was."""
    task = CharLMObjective(np.arange(500) % 7, np.arange(100) % 7, CharLMData(batch_size=4))
    trainer = Trainer(CharLM(CharLMConfig(vocab_size=7, hidden_size=8)), task,
                      lm_loop(max_steps=1, epochs=1), tmp_path / "r")
    assert trainer.group == Group() and trainer.device == torch.device("cpu")
    assert trainer.fit().is_main


if __name__ == "__main__":  # one torchrun process of ddp_runs
    distributed_job(Path(sys.argv[1]))


# -- elastic restarts: a worker killed mid-run, the job continues ------------------------------

ELASTIC_STEPS = 100  # long enough for a kill to land mid-run


def elastic_command(work: Path, *torchrun_flags: str) -> list[str]:
    """torchrun restarting its workers; each start runs the same start-or-continue line, in a
    script that reports each checkpoint's commit points on stdout (tests/test_faults.py)."""
    from tests.test_faults import CHILD  # here: torchrun runs this file as a script

    script = work / "report_commits.py"
    script.write_text(CHILD, encoding="utf-8")
    return [sys.executable, "-m", "torch.distributed.run", *torchrun_flags, "--max-restarts=3",
            str(script), "report", "-", "0", "charlm", "train", "--text", str(work / "text.txt"),
            "--out", str(work / "run"), "--resume", "auto", *LM_FLAGS, "--epochs", "3",
            "--eval-every", "2", "--max-steps", str(ELASTIC_STEPS), "--log-every", "1"]


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (the agent's workers), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def kill_a_worker_after(commits: int, agents: list[subprocess.Popen]) -> None:
    """SIGKILL a worker once `commits` checkpoints are committed, as the agents' output says."""
    pending = {agent.stdout.fileno(): b"" for agent in agents}  # read raw: select sees it all
    with selectors.DefaultSelector() as waiting:
        for fd in pending:
            waiting.register(fd, selectors.EVENT_READ)
        committed = 0
        while committed < commits:
            ready = waiting.select(timeout=LAUNCH_TIMEOUT_S)
            assert ready, "no checkpoint committed"
            for key, _ in ready:
                chunk = os.read(key.fd, 65536)
                if not chunk:  # that agent has exited
                    waiting.unregister(key.fd)
                *lines, pending[key.fd] = (pending[key.fd] + chunk).split(b"\n")
                committed += lines.count(b"weights renamed")
            assert waiting.get_map(), "the agents exited before the kill"
    workers = children(agents[-1].pid)
    assert workers, "no worker to kill"
    os.kill(workers[0], signal.SIGKILL)


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the workers through /proc")
@pytest.mark.parametrize("nodes", [1, 2])
def test_a_killed_worker_is_restarted_and_the_run_continues(tmp_path, nodes):
    (tmp_path / "text.txt").write_text(TEXT, encoding="utf-8")
    env = {**os.environ, "SEQRNN_DIST_TIMEOUT": "30", "PYTHONUNBUFFERED": "1"}
    if nodes == 1:
        launches = [elastic_command(tmp_path, "--standalone", "--nproc_per_node=2")]
    else:  # two "machines" of one process each, meeting at a c10d rendezvous on this one
        env["TORCH_DISABLE_SHARE_RDZV_TCP_STORE"] = "1"  # a store per attempt (seqrnn asks it)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        launches = [elastic_command(tmp_path, "--nnodes=2", "--nproc_per_node=1",
                                    "--rdzv_backend=c10d", f"--rdzv_endpoint=127.0.0.1:{port}",
                                    "--rdzv_id=seqrnn-test") for _ in range(2)]
    agents = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True) for command in launches]
    try:
        kill_a_worker_after(2, agents)  # the checkpoints of steps 2 and 4: mid-run
        errors = [agent.communicate(timeout=LAUNCH_TIMEOUT_S)[1] for agent in agents]
    finally:
        for agent in agents:
            agent.kill()
    assert [agent.returncode for agent in agents] == [0] * len(agents), errors[0][-3000:]
    steps = [r["step"] for r in evals(tmp_path / "run")]
    assert steps[-1] == ELASTIC_STEPS and sorted(set(steps)) == steps  # continued, not redone
    base.start(charlm.RECIPE, lm_data(tmp_path / "text.txt"), {"hidden_size": 32, "dropout": 0.0},
               lm_loop(max_steps=ELASTIC_STEPS, epochs=3, eval_every=2), tmp_path / "one")
    assert_same_weights(tmp_path / "run", tmp_path / "one")
