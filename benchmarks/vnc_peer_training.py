# The issue-3 PyTorch peer recipe on vnc-synapse, to compare with emflow's trainer on this machine:
# depth 3, base 16, 1x3x3 kernels on top, 1x2x2 pooling, 16x128x128 patches, batch 2, BCE (pos_weight 5)
# + Dice, Adam 1e-3, half the patches centred on synapses, flips, y-x transposes and 10 % intensity
# jitter as emflow's recipe; train.h5 x 0:896 only. Every 100 steps it predicts val.h5 whole and prints
# voxel PR-AUC (average precision) and best F1 there.
#
#   python benchmarks/vnc_peer_training.py [STEPS]      (a python with torch, h5py, scikit-learn; 2 threads)
import sys, time, h5py, numpy as np, torch, torch.nn as nn, torch.nn.functional as F
from sklearn.metrics import average_precision_score, precision_recall_curve
torch.set_num_threads(2); torch.manual_seed(1); rng = np.random.default_rng(1)
steps = int(sys.argv[1]) if len(sys.argv) > 1 else 300
data = '../shared/data/vnc-synapse'
with h5py.File(f'{data}/train.h5', 'r') as f:
    raw = f['volumes/raw'][:, :, :896].astype(np.float32) / 255
    lab = (f['volumes/labels/synapse'][:, :, :896] > 0).astype(np.uint8)
with h5py.File(f'{data}/val.h5', 'r') as f:
    val_raw = f['volumes/raw'][:].astype(np.float32) / 255
    val_truth = f['volumes/labels/synapse'][:].ravel() > 0
fg = np.argwhere(lab > 0); P = (16, 128, 128)
def patch():
    if rng.random() < 0.5:
        c = fg[rng.integers(len(fg))]; o = [min(max(c[i] - P[i] // 2, 0), raw.shape[i] - P[i]) for i in range(3)]
    else:
        o = [rng.integers(0, raw.shape[i] - P[i] + 1) for i in range(3)]
    r = raw[o[0]:o[0]+P[0], o[1]:o[1]+P[1], o[2]:o[2]+P[2]]; l = lab[o[0]:o[0]+P[0], o[1]:o[1]+P[1], o[2]:o[2]+P[2]]
    for ax in range(3):
        if rng.random() < 0.5: r = np.flip(r, ax); l = np.flip(l, ax)
    if rng.random() < 0.5: r = r.transpose(0, 2, 1); l = l.transpose(0, 2, 1)
    r = r * (1 + rng.uniform(-0.1, 0.1)) + rng.uniform(-0.1, 0.1)
    return np.ascontiguousarray(r), np.ascontiguousarray(l).astype(np.float32)
class Block(nn.Sequential):
    def __init__(s, i, o, k):
        p = tuple(x // 2 for x in k)
        super().__init__(nn.Conv3d(i, o, k, padding=p), nn.ReLU(), nn.Conv3d(o, o, k, padding=p), nn.ReLU())
class UNet(nn.Module):
    def __init__(s):
        super().__init__(); w = [16, 32, 64]; k = [(1, 3, 3), (3, 3, 3), (3, 3, 3)]
        s.enc = nn.ModuleList([Block(1, 16, k[0]), Block(16, 32, k[1]), Block(32, 64, k[2])])
        s.up = nn.ModuleList([nn.ConvTranspose3d(32, 16, (1, 2, 2), (1, 2, 2)), nn.ConvTranspose3d(64, 32, (1, 2, 2), (1, 2, 2))])
        s.dec = nn.ModuleList([Block(32, 16, k[0]), Block(64, 32, k[1])]); s.head = nn.Conv3d(16, 1, 1)
    def forward(s, x):
        a = s.enc[0](x); b = s.enc[1](F.max_pool3d(a, (1, 2, 2))); c = s.enc[2](F.max_pool3d(b, (1, 2, 2)))
        b = s.dec[1](torch.cat([b, s.up[1](c)], 1)); a = s.dec[0](torch.cat([a, s.up[0](b)], 1)); return s.head(a)
net = UNet(); print('parameters', sum(p.numel() for p in net.parameters()), flush=True)
opt = torch.optim.Adam(net.parameters(), lr=1e-3); pw = torch.tensor(5.0); start = time.time()
for step in range(1, steps + 1):
    xs, ts = zip(*[patch() for _ in range(2)])
    x = torch.from_numpy(np.stack(xs))[:, None]; t = torch.from_numpy(np.stack(ts))[:, None]
    z = net(x); p = torch.sigmoid(z)
    loss = F.binary_cross_entropy_with_logits(z, t, pos_weight=pw) + 1 - (2 * (p * t).sum() + 1) / (p.sum() + t.sum() + 1)
    opt.zero_grad(); loss.backward(); opt.step()
    if step % 25 == 0: print(step, round(time.time() - start), loss.item(), flush=True)
    if step % 100 == 0 or step == steps:
        with torch.no_grad():
            p = torch.sigmoid(net(torch.from_numpy(val_raw)[None, None]))[0, 0].numpy().ravel()
            precision, recall, _ = precision_recall_curve(val_truth, p)
            f1 = (2 * precision * recall / np.maximum(precision + recall, 1e-12)).max()
            print(f'step {step}: val PR-AUC {average_precision_score(val_truth, p):.3f}, best F1 {f1:.3f}', flush=True)
print('done', round(time.time() - start), flush=True)
