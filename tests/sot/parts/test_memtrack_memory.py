"""MemTrack's learned memory on hand-set tensors: addressing, allocation, write, gate ranges."""
import torch

from sot.parts.memory import MemTrackMemory, TemplateMemory

torch.set_num_threads(1)


def test_allocation_goes_to_least_used_slot():
    usage = torch.tensor([[0.9, 0.2, 0.5, 0.7], [0.1, 0.3, 0.0, 0.4]])
    a = MemTrackMemory.allocation(usage)
    assert a.tolist() == [[0, 1, 0, 0], [0, 0, 1, 0]]


def test_read_weights_cosine_softmax():
    mem = torch.zeros(1, 3, 2, 1, 1)
    mem[0, 0, :, 0, 0] = torch.tensor([1.0, 0.0])
    mem[0, 1, :, 0, 0] = torch.tensor([0.0, 2.0])
    mem[0, 2, :, 0, 0] = torch.tensor([-1.0, 0.0])
    key = torch.tensor([[3.0, 0.0]])
    w = MemTrackMemory.read_weights(key, torch.tensor([[2.0]]), mem)
    e = torch.exp(torch.tensor([2.0, 0.0, -2.0]))           # strength x cos = 2, 0, -2
    assert torch.allclose(w[0], e / e.sum(), atol=1e-6)


def test_write_erases_and_adds_by_weight():
    mem = torch.ones(1, 2, 1, 1, 1)
    new = torch.full((1, 1, 1, 1), 5.0)
    out = MemTrackMemory.write(mem, torch.tensor([[1.0, 0.0]]), torch.tensor([[0.5]]), new)
    assert out[0, 0].item() == 1 * 0.5 + 0.5 * 5 and out[0, 1].item() == 1.0


def test_step_gates_ranges_and_allocation_write():
    torch.manual_seed(0)
    m = MemTrackMemory(channels=4, slots=3, hidden=16).eval()
    t0 = torch.randn(2, 4, 3, 3)
    st = m.init_state(t0)
    template, step = m.read(st, torch.randn(2, 4, 9, 9))
    r = step["residual"]
    assert r.shape == (2, 4, 1, 1) and bool((r > 0).all()) and bool((r < 1).all())     # channel-wise gate in (0, 1)
    assert torch.allclose(step["gates"].sum(1), torch.ones(2)) and torch.allclose(step["w_r"].sum(1), torch.ones(2))
    assert template.shape == t0.shape
    assert step["attention"].shape == (2, 49, 1)
    # residual: T = T0 + r * retrieved, and memory starts with T0 only -> T = T0 + r * w_r[0] * T0
    assert torch.allclose(template, t0 + r * step["w_r"][:, 0, None, None, None] * t0, atol=1e-6)
    # force pure allocation: the new template goes to a least-used (empty) slot, slot 0 untouched
    step["gates"] = torch.tensor([[0.0, 1.0, 0.0]] * 2)
    new = torch.randn(2, 4, 3, 3)
    nxt = m.write_step(st, step, new)
    assert torch.allclose(nxt["memory"][:, 1], new) and torch.allclose(nxt["memory"][:, 0], t0)
    assert torch.allclose(nxt["usage"][:, 1], 1 + step["w_r"][:, 1])


def test_fixed_gate_memory_kept():
    mem = TemplateMemory(slots=2, tau=0.1, usage_decay=0.99)
    assert mem.write(torch.ones(2, 1, 1), [torch.ones(1)]) == 0 and len(mem) == 1
