import json
import shutil
from pathlib import Path

import pytest

from seqrnn.cli import main
from seqrnn.run import RunFolder

TEXT = "".join(f"{w} the cat sat on the mat.\n" for w in ["one", "two", "three", "four"] * 30)
SMALL = ["--batch-size", "4", "--num-steps", "16", "--hidden-size", "24", "--lr", "0.01",
         "--quiet", "--eval-rows", "4"]


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "text.txt"
    path.write_text(TEXT)
    return path


@pytest.fixture(scope="module")
def trained_once(tmp_path_factory):
    root = tmp_path_factory.mktemp("trained")
    (root / "text.txt").write_text(TEXT)
    assert main(["charlm", "train", "--text", str(root / "text.txt"), "--out", str(root / "run"),
                 "--epochs", "4", "--sample-length", "0", *SMALL]) == 0
    return root / "run"


@pytest.fixture
def trained(trained_once, tmp_path):
    """A private copy of a trained run folder, free to damage."""
    return Path(shutil.copytree(trained_once, tmp_path / "run"))


def error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    return err.splitlines()[-1]


def test_version_and_help(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("seqrnn ")
    assert main(["charlm", "train", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--hidden-size" in out and "(default: 128)" in out and "--resume" in out


def test_train_prints_a_sample(tmp_path, capsys):
    (tmp_path / "t.txt").write_text("The " + TEXT)
    code = main(["charlm", "train", "--text", str(tmp_path / "t.txt"), "--out",
                 str(tmp_path / "r"), "--epochs", "2", "--sample-length", "30", *SMALL])
    assert code == 0
    out = capsys.readouterr().out
    assert out.startswith("The ") and len(out.rstrip("\n")) == 34


def test_sample_streams_and_is_repeatable(trained, capsys):
    args = ["charlm", "sample", "--model", str(trained), "--prime", "one ", "--length", "25",
            "--seed", "3", "--quiet"]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert main(args) == 0
    assert capsys.readouterr().out == first
    assert first.startswith("one ") and len(first) == 4 + 25 + 1
    assert main([*args[:-1], "--num-samples", "2"]) == 0
    out = capsys.readouterr().out
    assert out.count("--- sample") == 2


def test_sample_options_match_the_python_api(trained, capsys):
    from seqrnn.api.charlm import LanguageModel

    lm = LanguageModel.load(trained)
    base = ["charlm", "sample", "--model", str(trained), "--prime", "one ", "--length", "60",
            "--quiet"]
    assert main([*base, "--seed", "4", "--top-k", "0", "--top-p", "0.6", "--stop", "at",
                 "--stop", "mat"]) == 0
    out = capsys.readouterr().out
    assert out == lm.sample("one ", 60, seed=4, top_k=0, top_p=0.6, stop=("at", "mat")) + "\n"
    assert out.rstrip("\n").endswith("at")
    assert main([*base, "--beam", "3"]) == 0
    assert capsys.readouterr().out == lm.sample("one ", 60, beam=3) + "\n"
    assert main([*base, "--seed", "7", "--num-samples", "3"]) == 0
    assert capsys.readouterr().out == "".join(lm.sample("one ", 60, seed=7 + i) + "\n"
                                              for i in range(3))


@pytest.mark.parametrize(("args", "message"), [
    (["--top-p", "0"], "--top-p must be positive, got 0.0"),
    (["--top-p", "1.5"], "--top-p must be in (0, 1], got 1.5"),
    (["--beam", "0"], "--beam must be between 1 and 64, got 0"),
    (["--beam", "2", "--num-samples", "2"], "with --beam above 1, ask for --num-samples 1"),
    (["--stop", ""], "--stop takes up to 16 non-empty strings"),
    (["--time-limit", "0"], "--time-limit must be positive, got 0.0"),
    (["--time-limit", "soon"], "argument --time-limit: invalid float value: 'soon'"),
    (["--temperature", "nan"], "--temperature must be a finite number, got nan"),
])
def test_bad_sample_options_are_one_line(trained, capsys, args, message):
    assert main(["charlm", "sample", "--model", str(trained), "--prime", "one ", *args]) == 2
    assert message in error_line(capsys)
    assert capsys.readouterr().out == ""


def test_evaluate_prints_json(trained, text_file, capsys):
    assert main(["charlm", "evaluate", "--model", str(trained), "--text", str(text_file)]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert set(metrics) >= {"loss", "bits_per_char", "perplexity", "characters", "unknown_chars"}
    assert metrics["characters"] > len(TEXT) - 40 and metrics["unknown_chars"] == 0


def test_resume_extends_a_run(trained, capsys):
    assert main(["charlm", "train", "--resume", str(trained), "--epochs", "5",
                 "--sample-length", "0", "--quiet"]) == 0
    assert "at step" in capsys.readouterr().err
    code = main(["charlm", "train", "--resume", str(trained), "--hidden-size", "8", "--quiet"])
    assert code == 2
    assert "drop --hidden-size" in error_line(capsys)
    code = main(["charlm", "train", "--resume", str(trained), "--num-steps", "8", "--quiet"])
    assert code == 2  # the data layout is the run's too; it was silently ignored before
    assert "drop --num-steps" in error_line(capsys)


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        (lambda p: p.write_text(""), [], "empty"),
        (lambda p: p.write_text("short text"), [], "too short"),
        (lambda p: p.write_bytes(b"\x00\x01\x02binary" * 50), [], "--encoding"),
        (lambda p: p.write_bytes("café ".encode("latin-1") * 200), [], "--encoding"),
        (lambda p: p.mkdir(), [], "holds no .txt file"),  # a folder of texts is read
        (lambda p: None, [], "no such file"),
        (lambda p: p.write_text(TEXT), ["--hidden-size", "0"], "--hidden-size must be positive"),
        (lambda p: p.write_text(TEXT), ["--batch-size", "-1"], "--batch-size must be"),
        (lambda p: p.write_text(TEXT), ["--epochs", "0"], "--epochs must be positive"),
        (lambda p: p.write_text(TEXT), ["--val-fraction", "1.5"], "--val-fraction"),
        (lambda p: p.write_text(TEXT), ["--lr", "nan"], "--lr must be a finite number, got nan"),
        (lambda p: p.write_text(TEXT), ["--lr", "inf"], "--lr must be a finite number, got inf"),
        (lambda p: p.write_text(TEXT), ["--clip", "nan"], "--clip must be a finite number"),
        (lambda p: p.write_text(TEXT), ["--seed", "99999999999999999999999"],
         "--seed must be between 0 and 4294967295, got 99999999999999999999999"),
        (lambda p: p.write_text(TEXT), ["--threads", "100000"],
         "--threads 100000 is more than the"),
        (lambda p: p.write_text(TEXT), ["--hidden-size", "1000000000"],
         "training a 1-layer model of 1,000,000,000 units on batches of 4 x 16 steps"),
        (lambda p: p.write_text(TEXT), ["--hidden-size", "100000"],
         "training a 1-layer model of 100,000 units on batches of 4 x 16 steps would need at "
         "least 596.2 GiB of memory, more than the"),
        (lambda p: p.write_text(TEXT), ["--embedding-dim", "1000000000", "--input", "embedding"],
         "training a 1-layer model of 128 units on batches of 4 x 16 steps would need"),
        (lambda p: p.write_text(TEXT), ["--num-layers", "100000"],
         "--num-layers 100000 is more than the 100 layers seqrnn builds"),
    ],
)
def test_bad_training_input(tmp_path, capsys, setup, args, message):
    path = tmp_path / "input"
    setup(path)
    out = tmp_path / "run"
    base = ["charlm", "train", "--text", str(path), "--out", str(out), "--quiet",
            "--batch-size", "4", "--num-steps", "16"]
    assert main([*base, *args]) == 2
    assert message in error_line(capsys)
    assert not out.exists() or not any(out.iterdir())  # nothing half-written


def edit_config(run, **changes):
    config = json.loads((run / "config.json").read_text())
    config.update(changes)
    for key in [k for k, v in changes.items() if v is ...]:
        del config[key]
    (run / "config.json").write_text(json.dumps(config))


def edit_model(run, **changes):
    config = json.loads((run / "config.json").read_text())
    edit_config(run, model={**config["model"], **changes})


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda run: (run / "model.safetensors").unlink(), "model.safetensors is missing"),
        (lambda run: (run / "model.safetensors").write_bytes(b"xx"), "corrupt or truncated"),
        (lambda run: (run / "config.json").write_text("{"), "config.json is corrupt"),
        (lambda run: (run / "vocab.json").write_text('{"chars": ["a", "b"]}'), "mixed up"),
        (lambda run: (run / "config.json").write_text("[1, 2]"),
         "config.json is damaged (a list, not an object)"),
        (lambda run: edit_config(run, format_version="1"),
         "config.json is damaged (format_version is '1', not a number)"),
        (lambda run: edit_config(run, model=None), "'model' is missing or not an object"),
        (lambda run: edit_config(run, model=...), "'model' is missing or not an object"),
        (lambda run: edit_config(run, train=[]), "'train' is not an object"),
        (lambda run: edit_model(run, hidden_size=16.0),
         "config.json, its model: hidden_size is 16.0, not a whole number"),
        (lambda run: edit_model(run, cell=None), "cell is None, not a string"),
        (lambda run: edit_model(run, hidden_size=0), "its model: hidden_size must be positive"),
        (lambda run: edit_model(run, colour="blue"), "its model does not fit this seqrnn"),
        (lambda run: edit_model(run, num_layers=100_000),  # took minutes to build, then refused
         "config.json: num_layers 100000 is more than the 100 layers seqrnn builds"),
        (lambda run: (run / "config.json").write_text("[" * 100_000), "nested too deeply"),
    ],
)
def test_damaged_model_folder(trained, capsys, damage, message):
    damage(trained)
    assert main(["charlm", "sample", "--model", str(trained), "--length", "5"]) == 2
    assert message in error_line(capsys)


def test_missing_model_folder_and_unseen_prime(trained, tmp_path, capsys):
    assert main(["charlm", "sample", "--model", str(tmp_path / "nope")]) == 2
    assert "not found" in error_line(capsys)
    assert main(["charlm", "sample", "--model", str(trained), "--prime", "QZ"]) == 2
    assert "never saw" in error_line(capsys)
    assert capsys.readouterr().out == ""


def test_resume_with_a_different_vocabulary(trained, tmp_path, capsys):
    other = tmp_path / "other.txt"
    other.write_text(TEXT.upper())
    assert main(["charlm", "train", "--resume", str(trained), "--text", str(other),
                 "--quiet"]) == 2
    assert "is not the data the run" in error_line(capsys)  # its fingerprint tells first
    assert main(["charlm", "train", "--resume", str(trained), "--text", str(other),
                 "--allow-changed-data", "--quiet"]) == 2
    assert "different character vocabulary" in error_line(capsys)


@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGTERM"])
def test_ctrl_c_or_sigterm_saves_and_the_run_resumes(text_file, tmp_path, signal_name):
    """A real SIGINT (Ctrl-C) or SIGTERM to a training process: it saves, exits with 130,
    and resumes. The signal is sent once the process reports its first checkpoint committed
    (seqrnn.run.commit_reached), so it lands mid-training however fast the machine is."""
    import signal
    import subprocess
    import sys

    from tests.test_faults import CHILD

    run = tmp_path / "run"
    command = [sys.executable, "-c", CHILD, "report", "-", "0", "charlm", "train", "--text",
               str(text_file), "--out", str(run), "--epochs", "100000", "--log-every", "1",
               "--eval-every", "2", *SMALL]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in process.stdout:  # blocks until the child reports, or ends at its exit
        if line.strip() == "weights renamed":
            break
    process.send_signal(getattr(signal, signal_name))
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "stopped (interrupted)" in err and f"--resume {run}" in err
    assert "Traceback" not in err
    saved_step = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])["step"]
    assert main(["charlm", "train", "--resume", str(run), "--max-steps", str(saved_step + 2),
                 "--quiet", "--sample-length", "0"]) == 0
    assert json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])["step"] == (
        saved_step + 2)


def test_a_folder_in_use_is_refused(text_file, tmp_path, capsys):
    from seqrnn.run import RunFolder

    with RunFolder(tmp_path / "run").lock():  # as a training in another process holds it
        code = main(["charlm", "train", "--text", str(text_file), "--out", str(tmp_path / "run"),
                     *SMALL])
    assert code == 2
    assert error_line(capsys) == ("seqrnn: error: another process is training in "
                                  f"{tmp_path / 'run'}: wait for it to finish, or choose "
                                  "another folder")


def test_a_run_stopped_before_its_first_checkpoint_starts_again(text_file, tmp_path, capsys):
    run = tmp_path / "run"
    argv = ["charlm", "train", "--text", str(text_file), "--out", str(run), *SMALL]
    assert main([*argv, "--max-steps", "2"]) == 0
    for name in ("latest.safetensors", "train_state.pt", "model.safetensors"):
        (run / name).unlink()  # as if killed before its first checkpoint
    assert main(["charlm", "train", "--resume", str(run), "--quiet"]) == 2
    assert "holds no checkpoint yet (its run stopped before the first)" in error_line(capsys)
    assert main([*argv, "--max-steps", "2"]) == 0
    assert (run / "latest.safetensors").exists()


@pytest.mark.parametrize(("temperature", "outcome"), [
    ("nan", "--temperature must be a finite number, got nan"),
    ("inf", "--temperature must be a finite number, got inf"),
    ("1e-40", None),  # so cold that the logits overflow: the most likely character, every time
])
def test_sampling_temperatures_at_the_edges(trained, capsys, temperature, outcome):
    argv = ["charlm", "sample", "--model", str(trained), "--prime", "one ", "--length", "20",
            "--seed", "1", "--quiet"]
    if outcome is not None:
        assert main([*argv, "--temperature", temperature]) == 2
        assert outcome in error_line(capsys)
        return
    assert main([*argv, "--temperature", temperature]) == 0
    cold = capsys.readouterr().out
    assert main([*argv, "--greedy"]) == 0
    assert cold == capsys.readouterr().out


def test_a_closed_pipe_ends_sampling_quietly(trained):
    import subprocess
    import sys

    command = (f"{sys.executable} -m seqrnn charlm sample --model {trained} --prime 'one ' "
               "--length 200000 --quiet | head -c 20; echo \" ${PIPESTATUS[0]}\"")
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=120)
    assert done.stdout.startswith("one ") and done.stdout.endswith(" 141\n")
    assert done.stderr == ""


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")
def test_a_full_output_device_is_one_line(trained):
    import subprocess
    import sys

    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "seqrnn", "charlm", "sample", "--model",
                               str(trained), "--prime", "one ", "--length", "50", "--quiet"],
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr == ("seqrnn: error: no space left on the device for the output: free "
                           "some space and try again\n")


def test_an_out_folder_under_a_file_is_one_line(text_file, tmp_path, capsys):
    (tmp_path / "a-file").write_text("x")
    out = tmp_path / "a-file" / "run"
    assert main(["charlm", "train", "--text", str(text_file), "--out", str(out), *SMALL]) == 2
    assert error_line(capsys) == (f"seqrnn: error: {out}: Not a directory; check the path and "
                                  "its permissions")


@pytest.mark.parametrize(("damage", "message"), [
    (lambda run: torch_save({}, run / "train_state.pt"),
     "train_state.pt is damaged ('progress' is missing or not a dict)"),
    (lambda run: edit_state(run, optimizers=[]), "trained with 0 optimizer(s)"),
    (lambda run: edit_state(run, rng_cpu=[1, 2]), "'rng_cpu' is missing or not a Tensor"),
    (lambda run: edit_state(run, optimizers=[{"state": {}, "param_groups": [{"params": [0]}]}]),
     "its optimizer state does not fit the model"),
    (lambda run: edit_config(run, train=None), "holds a saved model, not a training run"),
    (lambda run: edit_config(run, train={"data": {"batch_size": "4"}, "loop": {}}),
     "its data: batch_size is '4', not a whole number"),
])
def test_damaged_training_state_is_one_line_on_resume(trained, capsys, damage, message):
    damage(trained)
    assert main(["charlm", "train", "--resume", str(trained), "--quiet"]) == 2
    assert message in error_line(capsys)


def test_a_crash_damaged_metrics_file_does_not_stop_a_resume(trained):
    metrics = trained / "metrics.jsonl"
    metrics.write_bytes(metrics.read_bytes() + b'{"kind": "train", "st\xff')
    assert main(["charlm", "train", "--resume", str(trained), "--epochs", "5", "--quiet",
                 "--sample-length", "0"]) == 0
    assert all(json.loads(line)["step"] for line in metrics.read_text().splitlines())


def torch_save(obj, path):
    import torch

    torch.save(obj, path)


def edit_state(run, **changes):
    import torch

    state = torch.load(run / "train_state.pt", weights_only=True)
    torch.save({**state, **changes}, run / "train_state.pt")


def test_resume_refuses_out_and_a_spent_max_steps(trained_once, tmp_path, capsys):
    run = Path(shutil.copytree(trained_once, tmp_path / "run"))
    assert main(["charlm", "train", "--resume", str(run), "--out", "elsewhere"]) == 2
    assert error_line(capsys) == (f"seqrnn: error: --resume continues {run} in place: drop "
                                  "--out elsewhere")
    steps = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])["step"]
    assert main(["charlm", "train", "--resume", str(run), "--epochs", "5", "--max-steps",
                 str(steps + 3), "--quiet", "--sample-length", "0"]) == 0
    assert main(["charlm", "train", "--resume", str(run), "--quiet"]) == 2
    assert error_line(capsys) == (f"seqrnn: error: {run} already stopped at step {steps + 3}, "
                                  f"its --max-steps {steps + 3}: give a larger --max-steps to "
                                  "continue it")


def test_a_bad_sampling_option_prints_no_header(trained, capsys):
    assert main(["charlm", "sample", "--model", str(trained), "--prime", "@@"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "never saw" in captured.err


def test_resume_auto_starts_then_continues_the_same_command_line(text_file, tmp_path, capsys):
    run = tmp_path / "run"
    argv = ["charlm", "train", "--text", str(text_file), "--out", str(run), "--resume", "auto",
            "--epochs", "2", "--sample-length", "0", *SMALL]
    assert main([*argv, "--max-steps", "3"]) == 0  # nothing to continue: a fresh start
    assert main([*argv, "--max-steps", "6"]) == 0  # the same line again: continued
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()
             if json.loads(line)["kind"] == "eval"]
    assert steps == [3, 6]
    straight = tmp_path / "straight"
    assert main(["charlm", "train", "--text", str(text_file), "--out", str(straight), "--epochs",
                 "2", "--sample-length", "0", "--max-steps", "6", *SMALL]) == 0
    ours = RunFolder(run).load_weights("latest.safetensors")[0]
    theirs = RunFolder(straight).load_weights("latest.safetensors")[0]
    assert all(ours[k].equal(theirs[k]) for k in theirs)
    assert main([*argv, "--hidden-size", "32", "--max-steps", "9"]) == 2
    assert error_line(capsys).endswith("drop --hidden-size")


def test_a_max_steps_stop_says_how_to_continue(text_file, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["charlm", "train", "--text", str(text_file), "--out", str(run), "--max-steps",
                 "2", "--sample-length", "0", *SMALL]) == 0
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"continue with: seqrnn charlm train --resume {run} --max-steps N (N above 2)")


def test_resume_refuses_a_changed_text_whose_characters_match(text_file, tmp_path, capsys,
                                                              monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["charlm", "train", "--text", "text.txt", "--out", "run", "--max-steps", "2",
                 "--sample-length", "0", *SMALL]) == 0
    train = json.loads((tmp_path / "run" / "config.json").read_text())["train"]
    assert train["data"]["text"] == str(text_file)  # the same file from any folder
    assert train["sources"]["text"]["path"] == str(text_file)
    assert train["sources"]["text"]["size"] == len(TEXT)
    with text_file.open("a") as f:
        f.write("one the cat sat.\n")  # only characters the run knows
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    resume = ["charlm", "train", "--resume", str(tmp_path / "run"), "--max-steps", "4",
              "--sample-length", "0", "--quiet"]
    assert main(resume) == 2
    line = error_line(capsys)
    assert f"{text_file} changed since the run in" in line and "--allow-changed-data" in line
    assert RunFolder(tmp_path / "run").latest_step() == 2
    assert main([*resume, "--allow-changed-data"]) == 0
    assert RunFolder(tmp_path / "run").latest_step() == 4
    train = json.loads((tmp_path / "run" / "config.json").read_text())["train"]
    assert train["sources"]["text"]["size"] == len(TEXT) + 17  # accepted: the new record


def test_resume_auto_refuses_a_run_of_another_preset(text_file, tmp_path, capsys):
    def train(out, *extra):
        return main(["charlm", "train", "--text", str(text_file), "--out", str(out),
                     "--sample-length", "0", *SMALL, *extra])

    out = tmp_path / "run"
    assert train(out, "--max-steps", "2") == 0
    assert json.loads((out / "config.json").read_text())["train"]["preset"] is None
    assert main(["charlm", "train", "--resume", "auto", "--out", str(out), "--preset",
                 "lecture", "--quiet"]) == 2
    assert f"{out} holds a run started with no preset, not --preset lecture" in \
        error_line(capsys)
    assert RunFolder(out).latest_step() == 2
    lecture = tmp_path / "lecture"
    assert train(lecture, "--preset", "lecture", "--max-steps", "2") == 0
    assert json.loads((lecture / "config.json").read_text())["train"]["preset"] == "lecture"
    assert train(lecture, "--preset", "lecture", "--max-steps", "3", "--resume", "auto") == 0
    assert RunFolder(lecture).latest_step() == 3  # the same preset continues


def test_what_cannot_fit_is_refused_before_it_is_allocated(trained_once, tmp_path):
    """Each of these once ran out of memory, hung or ended in a MemoryError traceback."""
    from tests.limited import assert_refused, run_limited

    text = tmp_path / "text.txt"
    text.write_text(TEXT)
    sample = ["charlm", "sample", "--model", str(trained_once), "--prime", "one "]
    train = ["charlm", "train", "--out", str(tmp_path / "run"), "--quiet", "--device", "cpu"]
    results = run_limited(
        [*sample, "--num-samples", "1000000000", "--length", "5"],
        [*sample, "--beam", "64", "--length", "1000000000"],
        [*sample, "--num-samples", "1000", "--length", "100000000"],
        [*train, "--text", str(text), "--num-layers", "100000"],
        [*train, "--text", str(text), "--hidden-size", "200000"],
        ["charlm", "train", "--out", str(tmp_path / "zero"), "--text", "/dev/zero"],
    )
    assert_refused(
        results,
        "generating 1,000,000,000 texts of 5 tokens would need at least",
        "a beam of 64 hypotheses of 1,000,000,000 tokens would need at least",
        "lower --num-samples or --length (or raise SEQRNN_MEMORY_LIMIT)",
        "--num-layers 100000 is more than the 100 layers seqrnn builds",
        "choose a smaller --batch-size, --num-steps, --hidden-size or --num-layers",
        "/dev/zero is a device, not a file",
    )
    assert not (tmp_path / "run").exists()  # refused before the run folder was made
    assert not (tmp_path / "zero").exists()  # refused while reading: the folder goes again


def test_the_memory_budget_can_be_set(trained, monkeypatch, capsys):
    monkeypatch.setenv("SEQRNN_MEMORY_LIMIT", "1M")
    args = ["charlm", "sample", "--model", str(trained), "--prime", "one ", "--length", "100"]
    assert main([*args, "--num-samples", "1000"]) == 2
    assert "more than the 1.0 MiB available: lower --num-samples or --length" in error_line(
        capsys)
    assert main([*args, "--num-samples", "2", "--quiet"]) == 0
    monkeypatch.setenv("SEQRNN_MEMORY_LIMIT", "lots")
    assert main([*args]) == 2
    assert "SEQRNN_MEMORY_LIMIT must be a positive size such as 8G or 512M, got 'lots'" in (
        error_line(capsys))


def test_evaluate_without_a_text_scores_the_runs_whole_validation_split(trained, capsys,
                                                                        tmp_path):
    assert main(["charlm", "evaluate", "--model", str(trained)]) == 0
    metrics = json.loads(capsys.readouterr().out)
    records = [json.loads(line) for line in (trained / "metrics.jsonl").read_text().splitlines()]
    best = min(r["val_loss"] for r in records if r["kind"] == "eval")
    # All 344 predictions of the 345 validation characters (a tenth of TEXT), in 4 rows; in
    # float32, where training evaluated under bfloat16 autocast.
    assert metrics["split"] == "validation" and metrics["characters"] == 344
    assert metrics["loss"] == pytest.approx(best, rel=2e-3)
    text = Path(json.loads((trained / "config.json").read_text())["train"]["data"]["text"])
    text.write_text(TEXT.replace("the", "teh"))
    try:
        assert main(["charlm", "evaluate", "--model", str(trained)]) == 2
        line = error_line(capsys)
        assert "changed since the run" in line and "--allow-changed-data" in line
        assert main(["charlm", "evaluate", "--model", str(trained), "--allow-changed-data"]) == 0
        assert json.loads(capsys.readouterr().out)["loss"] != metrics["loss"]
    finally:
        text.write_text(TEXT)  # the module's run read it
