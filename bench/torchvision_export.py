"""torchvision's model of an rsc family spec, as a peer to measure rsc's ONNX build against.

Needs Debian's python3-torch and python3-torchvision; run with /usr/bin/python3.
  params NAME              print torchvision's parameter counts (parameters + BatchNorm statistics)
  export NAME OUT.onnx     torch.onnx.export of torchvision.models.NAME (random weights, eval mode,
                           a softmax on top as rsc's specs have, 224x224 NCHW input, dynamic batch,
                           opset 17 as rsc writes)
NAME: mobilenet_v2, efficientnet_b0, densenet121, vgg16, resnet50, ...
"""
import sys, time
import torch, torch.nn as nn
import torchvision

torch.set_num_threads(max(1, len(__import__("os").sched_getaffinity(0))))


def model(name):
    m = getattr(torchvision.models, name)(weights=None)
    return nn.Sequential(m, nn.Softmax(dim=1)).eval()


def main(argv):
    cmd, name = argv[1], argv[2]
    m = model(name)
    if cmd == "params":
        params = sum(p.numel() for p in m.parameters())
        stats = sum(b.numel() for n, b in m.named_buffers() if "running" in n)
        print(f"params={params} bn_statistics={stats}")
    elif cmd == "export":
        t = time.perf_counter()
        with torch.no_grad():
            torch.onnx.export(m, torch.randn(1, 3, 224, 224), argv[3], opset_version=17,
                              input_names=["input"], output_names=["probs"],
                              dynamic_axes={"input": {0: "N"}, "probs": {0: "N"}})
        print(f"export_s={time.perf_counter() - t:.3f}")
    else:
        sys.exit(f"unknown command {cmd!r}")


if __name__ == "__main__":
    main(sys.argv)
