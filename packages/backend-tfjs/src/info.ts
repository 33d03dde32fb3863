/**
 * What `rsc` knows of the tfjs backend before loading it (target name, artifact kind, default
 * output, flags). Imports no tfjs, so the CLI registers `rsc build` with it at start-up.
 */
import { join } from "node:path";
import type { BackendInfo } from "@rsc/compiler";

/** The tfjs backend's {@link BackendInfo}: a folder of model.json + weight shards. */
export const TFJS_BACKEND_INFO: BackendInfo = {
  name: "tfjs",
  artifact: "folder",
  defaultOutput: (stem) => join("build", `${stem}-tfjs`),
  flags: [],
};
