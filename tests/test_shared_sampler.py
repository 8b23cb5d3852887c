import threading

import pytest

from seqrnn.api.charlm import LanguageModel
from seqrnn.api.shared_sampler import SharedSampler
from seqrnn.errors import UserError
from tests.test_generation import VOCAB, model, needs_compiler

pytestmark = needs_compiler


@pytest.fixture
def lm():
    return LanguageModel(model("lstm", num_layers=2), VOCAB)


def test_streams_from_many_threads_write_what_each_would_write_alone(lm):
    shared = SharedSampler(lm)
    options = [{"seed": i, "top_k": (5, 0)[i % 2], "top_p": (1.0, 0.8)[i % 3 == 0],
                "length": 300 + 37 * i} for i in range(10)]
    options.append({"greedy": True, "length": 200})
    results = {}

    def generate(i):
        results[i] = "".join(shared.stream("THE ", **options[i]))

    threads = [threading.Thread(target=generate, args=(i,)) for i in range(len(options))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for i, chosen in enumerate(options):
        assert results[i] == "".join(lm.stream("THE ", **chosen)), chosen


def test_a_closed_stream_leaves_the_worker_and_stops_and_beams_work(lm):
    shared = SharedSampler(lm)
    endless = shared.stream("THE ", 10_000_000, seed=1)
    assert next(endless)
    endless.close()
    with shared._changed:  # the worker notifies each time it drops finished streams
        assert shared._changed.wait_for(lambda: not shared._streams, timeout=60)
    assert "".join(shared.stream("THE ", 300, seed=3, stop=("e ",))) == "".join(
        lm.stream("THE ", 300, seed=3, stop=("e ",)))
    assert "".join(shared.stream("THE ", 30, beam=3)) == "".join(lm.stream("THE ", 30, beam=3))


def test_bad_options_are_refused_in_the_callers_thread(lm):
    shared = SharedSampler(lm)
    with pytest.raises(UserError) as caught:
        next(shared.stream("THE ", 10, top_p=2.0))
    assert caught.value.field == "top_p"
    with pytest.raises(UserError) as caught:
        next(shared.stream("TH#", 10))
    assert caught.value.field == "prime"
