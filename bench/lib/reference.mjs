/**
 * The PyTorch peer of each spec the ONNX benchmarks measure: how to export it, and the image size
 * both models take. `resnet50` is the Coursera ResNet-50 (../shared/reference/torch_resnet50.py,
 * 64x64); the keras.applications families are torchvision's model of the same family
 * (bench/torchvision_export.py, 224x224).
 */
import { join } from "node:path";

const TORCHVISION = new Set(["mobilenet_v2", "efficientnet_b0", "densenet121", "vgg16"]);

/** `{ spec, size, label, argv(out) }` of a family, or undefined when there is no peer. */
export function referenceFor(family, root) {
  const python = "/usr/bin/python3";
  if (family === "resnet50")
    return {
      spec: "specs/resnet50.yaml",
      size: 64,
      label: "torch.onnx.export (torch_resnet50.py export)",
      argv: (out) => [
        python,
        join(root, "..", "shared", "reference", "torch_resnet50.py"),
        "export",
        out,
      ],
    };
  if (TORCHVISION.has(family))
    return {
      spec: `specs/${family}.yaml`,
      size: 224,
      label: `torch.onnx.export (torchvision ${family})`,
      argv: (out) => [python, join(root, "bench", "torchvision_export.py"), "export", family, out],
    };
  return undefined;
}

/** The families with a peer, for usage messages. */
export const REFERENCE_FAMILIES = ["resnet50", ...TORCHVISION];
