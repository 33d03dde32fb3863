/**
 * What `rsc` knows of the ONNX backend before loading it (target name, artifact kind, default
 * output, flags). Imports no runtime and no protobuf code, so the CLI registers `rsc build` with
 * it at start-up and loads the backend itself only when building.
 */
import { join } from "node:path";
import type { BackendInfo } from "@rsc/compiler";

/** The ONNX backend's {@link BackendInfo}. */
export const ONNX_BACKEND_INFO: BackendInfo = {
  name: "onnx",
  artifact: "file",
  defaultOutput: (stem) => join("build", `${stem}.onnx`),
  flags: [
    {
      key: "externalDataThreshold",
      flag: "--external-data-threshold <bytes>",
      description:
        "onnx: weight bytes above which tensors go to <model>.onnx.data (default ~1.9 GB)",
      min: 0,
      max: Number.MAX_SAFE_INTEGER,
      unit: "bytes",
    },
  ],
};
