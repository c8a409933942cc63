"""PyTorch CPU peer of `emflow bench unet`: the same U-Net, timed the same way.

Depth 3, base 16, two 3x3x3 convolutions + ReLU per level (same padding), max-pool 2,
transposed-convolution up (kernel = stride = 2), concatenated skips, 1x1x1 head. Inference is
a forward pass under no_grad; a training step is forward, BCE (pos_weight 5) + Dice, backward
and an Adam update. Each is timed as the median of REPETITIONS runs after one warm-up run, in
both memory layouts (contiguous and channels_last_3d). Prints one JSON object.
"""
import argparse
import json
import statistics
import time

import torch
from torch import nn


def block(cin, cout):
    return nn.Sequential(nn.Conv3d(cin, cout, 3, padding=1), nn.ReLU(inplace=True),
                         nn.Conv3d(cout, cout, 3, padding=1), nn.ReLU(inplace=True))


class UNet(nn.Module):
    def __init__(self, depth=3, base=16):
        super().__init__()
        widths = [base * 2 ** level for level in range(depth)]
        self.down = nn.ModuleList()
        cin = 1
        for w in widths:
            self.down.append(block(cin, w))
            cin = w
        self.pool = nn.MaxPool3d(2)
        self.up = nn.ModuleList(nn.ConvTranspose3d(widths[l + 1], widths[l], 2, stride=2) for l in reversed(range(depth - 1)))
        self.decode = nn.ModuleList(block(2 * widths[l], widths[l]) for l in reversed(range(depth - 1)))
        self.head = nn.Conv3d(widths[0], 1, 1)

    def forward(self, x):
        skips = []
        for level, layer in enumerate(self.down):
            x = layer(x)
            if level < len(self.down) - 1:
                skips.append(x)
                x = self.pool(x)
        for up, decode in zip(self.up, self.decode):
            x = decode(torch.cat([skips.pop(), up(x)], dim=1))
        return self.head(x)


def median_seconds(body, repetitions):
    body()
    times = []
    for _ in range(repetitions):
        start = time.perf_counter()
        body()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(size, layout, repetitions):
    torch.manual_seed(1)
    model = UNet()
    memory_format = torch.channels_last_3d if layout == "channels_last_3d" else torch.contiguous_format
    model = model.to(memory_format=memory_format)
    x = torch.randn(1, 1, size, size, size).to(memory_format=memory_format)
    target = (torch.rand(1, 1, size, size, size) < 0.05).float().to(memory_format=memory_format)
    bce = nn.BCEWithLogitsLoss(pos_weight=torch.tensor(5.0))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def infer():
        with torch.no_grad():
            model(x)

    def train_step():
        optimizer.zero_grad(set_to_none=True)
        logits = model(x)
        p = torch.sigmoid(logits)
        dice = 1 - (2 * (p * target).sum() + 1) / (p.sum() + target.sum() + 1)
        loss = bce(logits, target) + dice
        loss.backward()
        optimizer.step()

    model.eval()
    inference = median_seconds(infer, repetitions)
    model.train()
    training = median_seconds(train_step, repetitions)
    return {"size": size, "layout": layout, "inference_s": inference,
            "inference_voxels_per_s": size ** 3 / inference, "training_step_s": training}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="64,96")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repetitions", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cases = [measure(int(s), layout, args.repetitions)
             for s in args.sizes.split(",") for layout in ("contiguous", "channels_last_3d")]
    print(json.dumps({"tool": "pytorch", "version": torch.__version__, "threads": args.threads,
                      "repetitions": args.repetitions,
                      "parameters": sum(p.numel() for p in UNet().parameters()), "cases": cases}, sort_keys=True))


if __name__ == "__main__":
    main()
