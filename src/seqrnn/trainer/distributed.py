"""Data-parallel training over processes started by torchrun.

torchrun starts one process per rank and tells each who it is through
environment variables: RANK (0 .. WORLD_SIZE - 1 over all machines),
WORLD_SIZE, LOCAL_RANK (its index on this machine, which picks its GPU) and
the rendezvous address. `join` reads them, joins the process group (gloo on
the CPU, NCCL on CUDA) once per process, and returns a `Group`. Without
torchrun, or with one process, the Group is a single process and every helper
returns its input: single-process training runs exactly as it always did.

The division of labour (the README's section "Beyond one process: torchrun,
DistributedDataParallel and the GPU" has the whole story):

- DistributedDataParallel averages the gradients during backward, so every
  rank takes the same optimizer step and the weights stay identical;
- --batch-size is the global batch: each rank takes its own equal slice of
  every global batch, so N processes learn what one process would with the
  same --batch-size, and a run can resume with another number of processes;
- the helpers here make the few other decisions global (the clock, a stop
  request, the logged loss, the validation sums), so no rank ever waits in a
  collective that another rank skipped.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import torch
import torch.distributed as dist

from seqrnn.errors import UserError

TIMEOUT_ENV = "SEQRNN_DIST_TIMEOUT"  # seconds a collective may wait before the run fails
DEFAULT_TIMEOUT_S = 1800.0


@dataclass(frozen=True)
class Group:
    """This process's place in the job: its rank, how many ranks, and its device."""

    rank: int = 0
    world_size: int = 1
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def is_main(self) -> bool:
        """Rank 0: the one process that writes files and prints progress."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def backend(self) -> str | None:
        if not self.distributed:
            return None
        return "nccl" if self.device.type == "cuda" else "gloo"

    def share(self, total: int) -> slice:
        """This rank's contiguous part of `total` items; the parts differ by at most one."""
        return slice(self.rank * total // self.world_size,
                     (self.rank + 1) * total // self.world_size)

    def split(self, total: int, field: str) -> slice:
        """This rank's equal share of `total` rows (config `field`); an error if uneven."""
        if total % self.world_size:
            name = "{" + field + "}"
            raise UserError(
                f"{name} {total} does not split evenly over {self.world_size} processes: use a "
                f"multiple of {self.world_size} (each process takes {name} / {self.world_size})",
                fields=(field,),
            )
        return self.share(total)

    def sum(self, values: Sequence[float]) -> list[float]:
        """Each value summed over all ranks, in float64 (one all-reduce for all of them)."""
        if not self.distributed:
            return list(values)
        tensor = torch.tensor(values, dtype=torch.float64, device=self.device)
        dist.all_reduce(tensor)
        return tensor.tolist()

    def gather(self, tensor: torch.Tensor, dim: int) -> torch.Tensor:
        """Every rank's `tensor` (all of one shape), concatenated along `dim` in rank order."""
        if not self.distributed:
            return tensor
        parts = [torch.empty_like(tensor) for _ in range(self.world_size)]
        dist.all_gather(parts, tensor.contiguous())
        return torch.cat(parts, dim=dim)

    def gather_objects(self, obj: object) -> list:
        """Every rank's picklable `obj`, in rank order."""
        if not self.distributed:
            return [obj]
        gathered: list = [None] * self.world_size
        dist.all_gather_object(gathered, obj)
        return gathered

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()

    def stage(self, tensors: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        """CPU tensors ready for this rank's device: pinned for a GPU, so the copy is async."""
        if self.device.type != "cuda":
            return tensors
        return tuple(t.pin_memory() for t in tensors)


def join(device: torch.device) -> Group:
    """This process's Group, joining the job torchrun started on the first call.

    `device` is where a single process would run; under torchrun a CUDA device
    becomes this machine's GPU number LOCAL_RANK. The process group then lives
    until the process exits: torch cannot reliably set it up a second time in
    one process, and a later train() or resume() reuses it. A process group
    the caller started itself is used as it is.
    """
    if dist.is_available() and dist.is_initialized():
        return _current(device)
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return Group(device=device)
    rank, local_rank = _ranks_from_environment(world_size)
    if device.type == "cuda":
        device = _local_gpu(local_rank)
    backend = "nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(backend, store=_store(rank, world_size), rank=rank,
                            world_size=world_size, timeout=_timeout())
    atexit.register(_leave)
    return Group(rank=rank, world_size=world_size, device=device)


SHARED_STORE_OFF = "TORCH_DISABLE_SHARE_RDZV_TCP_STORE"  # torchrun's: 1, a new store per attempt


def _store(rank: int, world_size: int) -> dist.Store:
    """The store the workers of this attempt meet in, apart from earlier attempts' keys.

    By default torchrun's agents keep one store for the whole job (the agent store): the
    workers restarted by --max-restarts would meet where the dead workers' addresses still
    stand, dial one and fail. On one machine the restart count tells attempts apart, so each
    attempt keys under its own prefix. Across machines it cannot: an agent restarts its
    workers without counting when another machine's workers failed first, so the counts of
    one attempt differ between machines. There, restarts need `SHARED_STORE_OFF`=1, under
    which rank 0 hosts a new store for each attempt.
    """
    shared = os.environ.get("TORCHELASTIC_USE_AGENT_STORE") == "True"
    machines, restarts = _env_int("GROUP_WORLD_SIZE", 1), _env_int("TORCHELASTIC_MAX_RESTARTS", 0)
    if shared and machines > 1 and restarts > 0:
        raise UserError(f"torchrun --max-restarts over {machines} machines needs "
                        f"{SHARED_STORE_OFF}=1 in every torchrun's environment (a new store for "
                        "each restart); without it restarted workers may never meet")
    store, _, _ = next(dist.rendezvous("env://", rank, world_size, timeout=_timeout()))
    if not shared:
        return store
    attempt = os.environ.get("TORCHELASTIC_RESTART_COUNT", "0")
    return dist.PrefixStore(f"seqrnn/attempt_{attempt}", store)


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, str(default))
    try:
        return int(raw)
    except ValueError:
        raise UserError(f"{name} must be a whole number, got {raw!r}: start with torchrun, "
                        "which sets it") from None


def _leave() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def _current(device: torch.device) -> Group:
    if device.type == "cuda":
        device = torch.device("cuda", torch.cuda.current_device())
    return Group(rank=dist.get_rank(), world_size=dist.get_world_size(), device=device)


def _ranks_from_environment(world_size: int) -> tuple[int, int]:
    try:
        rank = int(os.environ["RANK"])
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    except (KeyError, ValueError) as exc:
        raise UserError(f"WORLD_SIZE is {world_size} but RANK is missing or not a number: start "
                        "several processes with torchrun, which sets both") from exc
    if not 0 <= rank < world_size:
        raise UserError(f"RANK {rank} is outside WORLD_SIZE {world_size}: start with torchrun")
    return rank, local_rank


def _local_gpu(local_rank: int) -> torch.device:
    """GPU LOCAL_RANK of this machine, made the current one (NCCL needs a GPU per process)."""
    count = torch.cuda.device_count()
    if local_rank >= count:
        raise UserError(f"process {local_rank} on this machine needs GPU {local_rank} but torch "
                        f"sees {count}: use --nproc-per-node {count} or fewer, or --device cpu")
    device = torch.device("cuda", local_rank)
    torch.cuda.set_device(device)
    return device


def _timeout() -> timedelta:
    raw = os.environ.get(TIMEOUT_ENV, str(DEFAULT_TIMEOUT_S))
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if seconds <= 0:
        raise UserError(f"{TIMEOUT_ENV} must be a positive number of seconds, got {raw!r}")
    return timedelta(seconds=seconds)
