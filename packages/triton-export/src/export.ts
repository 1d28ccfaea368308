import { randomBytes } from "node:crypto";
import { open, mkdir, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { createLogger, ForgeError, type Logger } from "@trtforge/core";
import { hasMarkerMagic, readSidecar, type EngineMetadata } from "@trtforge/engine-format";
import { loadDeviceMap, type DeviceMap } from "@trtforge/config";
import { listAgents, listVersions, resolveStoreRoot, type VersionInfo } from "@trtforge/model-store";
import {
  chooseOnnx,
  findEngine,
  modelConfigPath,
  openVerifiedVersion,
  readClassifierHead,
  tokenizerDir,
  WARMUP_TEXTS,
  type VerifiedVersion,
} from "@trtforge/runtime";
import { loadTokenizer } from "@trtforge/tokenizer";
import {
  batchedModelConfig,
  ensembleConfig,
  labelsModelConfig,
  tokenizeModelConfig,
  type VersionFacts,
  type VersionPolicy,
  type Warmup,
} from "./configs.js";
import { listTree, placeFile, type PlaceMode } from "./files.js";
import { readOnnxIo, type TensorIo } from "./onnx-io.js";
import { toPbtxt, type PbMessage } from "./pbtxt.js";
import { cleanStaleStaging, stagingPrefix } from "./staging.js";
import { assignNumbers, emptyVersionMap, readVersionMap, VERSION_MAP_FILE, type VersionMap } from "./version-map.js";
import { labelsModelSource, onnxStandInSource, tokenizeModelSource } from "./python-models.js";

export type VersionSelection = "current" | "all" | number;

export interface ExportTritonOptions {
  /** Store root; undefined: $MODEL_STORE_ROOT. */
  storeRoot?: string;
  /** The repository folder to write (replaced atomically). */
  out: string;
  /** Agents to export, each optionally pinned to one version; empty or undefined: every agent. */
  models?: ReadonlyArray<{ agent: string; version?: string }>;
  /** Which versions of an agent not pinned: current (default), all, or the N newest. */
  versions?: VersionSelection;
  /** conf/engine_device_map.yaml: GPUs of each engine (instance_group gpus). Undefined: every GPU. */
  deviceMapPath?: string;
  mode?: PlaceMode;
  /** Replace an existing folder that is not this store's repository. */
  force?: boolean;
  /** Fail (TRITON_ENGINE_NOT_REAL) instead of skipping a version whose engine is a marker. */
  requireReal?: boolean;
  /**
   * TEST ONLY: `<agent>_onnx` becomes a Python-backend model running the same ONNX with onnxruntime,
   * for Triton builds without the ONNX Runtime backend (CI). Marked in its config and the mapping.
   */
  testOnlyPythonOnnx?: boolean;
  logger?: Logger;
}

export interface ExportedModel {
  name: string;
  kind: "tensorrt_plan" | "onnxruntime_onnx" | "python-onnx-test-stand-in" | "tokenizer" | "labels" | "ensemble";
  versions: number[];
}

export interface SkippedPlan {
  agent: string;
  version: string;
  reason: string;
}

export interface ExportTritonResult {
  out: string;
  storeRoot: string;
  models: ExportedModel[];
  /** Versions whose engine did not become a plan (markers, legacy sidecars), with the reason. */
  skippedPlans: SkippedPlan[];
  /** Agent → store version → Triton version number, for what this export wrote. */
  numbers: Record<string, Record<string, number>>;
  files: number;
}

interface PreparedVersion {
  info: VersionInfo;
  verified: VerifiedVersion;
  metadata: EngineMetadata | undefined;
  engineFile: string | undefined;
  /** Why the engine is not exported as a plan; undefined for a real engine. */
  notPlan: string | undefined;
  onnxFile: string;
  onnx: { inputs: TensorIo[]; outputs: TensorIo[]; externalFiles: string[] };
  tokenizerDir: string;
  configPath: string | undefined;
}

function usage(message: string, input: string, fix: string): ForgeError {
  return new ForgeError("INVALID_OPTION", message, { input, fix });
}

function selectVersions(versions: readonly VersionInfo[], selection: VersionSelection, agent: string): VersionInfo[] {
  const finalized = versions.filter((v) => v.manifest === "ok" && v.layout === "versions");
  if (selection === "current") {
    const current = finalized.find((v) => v.isCurrent);
    if (current === undefined)
      throw new ForgeError("STORE_CURRENT_DANGLING", `agent "${agent}" has no current version to export`, {
        input: agent,
        fix: `pick one with model-store promote ${agent} <version>, or pass --model ${agent}@<version> or --versions all`,
      });
    return [current];
  }
  return selection === "all" ? finalized : finalized.slice(-selection);
}

async function readHead(path: string, bytes: number): Promise<Buffer> {
  const handle = await open(path, "r");
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(bytes), 0, bytes, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

async function prepareVersion(agent: string, info: VersionInfo, storeRoot: string, logger: Logger | undefined): Promise<PreparedVersion> {
  const verified = await openVerifiedVersion(
    { storeRoot, agent, version: info.version },
    logger ?? createLogger({ name: "triton-export", level: "silent" }),
  );
  let metadata: EngineMetadata | undefined;
  let engineFile: string | undefined;
  let notPlan: string | undefined;
  try {
    const engine = findEngine(verified);
    engineFile = engine.engine;
    const sidecar = await readSidecar(join(verified.path, engine.sidecar));
    if (sidecar.schema === "legacy")
      notPlan = `${engine.sidecar} is a legacy JustNewsAgent sidecar: its engine's provenance cannot be checked`;
    else {
      metadata = sidecar.metadata;
      const head = await readHead(join(verified.path, engine.engine), 64);
      if (metadata.kind === "marker" || hasMarkerMagic(head))
        notPlan = `${engine.engine} is a marker engine (built without TensorRT), not a TensorRT plan`;
    }
  } catch (err) {
    if (!(err instanceof ForgeError) || err.code !== "MODEL_UNSERVABLE") throw err;
    notPlan = err.message;
  }
  const onnx = await chooseOnnx(verified, "auto");
  const onnxIo = await readOnnxIo(join(verified.path, onnx.file));
  return {
    info,
    verified,
    metadata,
    engineFile,
    notPlan,
    onnxFile: onnx.file,
    onnx: onnxIo,
    tokenizerDir: tokenizerDir(verified),
    configPath: modelConfigPath(verified),
  };
}

/** What exists at `out`: nothing, an empty folder, this store's repository, or something else. */
async function assertReplaceable(out: string, storeRoot: string, force: boolean): Promise<VersionMap | undefined> {
  let entries: string[];
  try {
    if (!(await stat(out)).isDirectory())
      throw new ForgeError("TRITON_REPOSITORY_EXISTS", `${out} exists and is not a folder`, {
        input: out,
        fix: "pass another --out, or remove the file",
      });
    entries = await readdir(out);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  if (entries.length === 0) return undefined;
  const previous = await readVersionMap(out);
  if (previous !== undefined && previous.store_root === storeRoot) return previous;
  if (force) return undefined;
  const what =
    previous === undefined
      ? `holds ${entries.length} entries and no ${VERSION_MAP_FILE}: it is not a repository written by export-triton`
      : `is the Triton repository of another store (${previous.store_root})`;
  throw new ForgeError("TRITON_REPOSITORY_EXISTS", `${out} ${what}; refusing to replace it`, {
    input: out,
    fix: "pass another --out, or --force to replace the folder (its version numbers are then assigned afresh)",
  });
}

function tritonName(agent: string): string {
  return agent;
}

/** A text as Triton's warm-up input file holds a BYTES element: 4-byte little-endian length, then the bytes. */
function bytesElement(text: string): Buffer {
  const body = Buffer.from(text, "utf8");
  const length = Buffer.alloc(4);
  length.writeUInt32LE(body.length);
  return Buffer.concat([length, body]);
}

/**
 * Writes the Triton model repository of the store's agents into `out`: staged in a hidden sibling
 * folder, renamed into place only when complete, so a failed or killed export leaves no repository
 * (and the next export removes the dead one's staging).
 */
export async function exportTriton(options: ExportTritonOptions): Promise<ExportTritonResult> {
  const storeRoot = resolveStoreRoot(options.storeRoot);
  const out = resolve(options.out);
  const selection = options.versions ?? "current";
  if (typeof selection === "number" && (!Number.isInteger(selection) || selection < 1))
    throw usage(
      `versions must be current, all or a positive count, not ${selection}`,
      "--versions",
      "pass --versions current, all or e.g. 3",
    );
  const mode = options.mode ?? "copy";
  const logger = options.logger;
  if (out === resolve(storeRoot) || out.startsWith(`${resolve(storeRoot)}/`))
    throw usage(
      `the repository ${out} would be inside the store ${storeRoot}`,
      "--out",
      "pass an --out folder outside the ModelStore root",
    );

  const deviceMap: DeviceMap | undefined = options.deviceMapPath === undefined ? undefined : await loadDeviceMap(options.deviceMapPath);
  const previous = await assertReplaceable(out, storeRoot, options.force ?? false);
  await mkdir(dirname(out), { recursive: true });
  await cleanStaleStaging(out, logger);

  // Which versions of which agents, decided (and each version verified) before anything is written.
  const requested: ReadonlyArray<{ agent: string; version?: string }> =
    options.models !== undefined && options.models.length > 0
      ? options.models
      : (await listAgents({ root: storeRoot })).map((a) => ({ agent: a.agent }));
  if (requested.length === 0)
    throw new ForgeError("TRITON_NOTHING_TO_EXPORT", `the store ${storeRoot} has no agents`, {
      input: storeRoot,
      fix: "publish a model first (build-engine --model …), or pass the right --root",
    });
  const byAgent = new Map<string, VersionInfo[]>();
  for (const { agent, version } of requested) {
    const listing = await listVersions({ root: storeRoot, agent });
    let chosen: VersionInfo[];
    if (version !== undefined) {
      const found = listing.versions.find((v) => v.version === version && v.layout === "versions");
      if (found === undefined)
        throw new ForgeError("STORE_VERSION_NOT_FOUND", `agent "${agent}" has no version "${version}"`, {
          input: `${agent}@${version}`,
          fix: `list its versions with model-store list --agent ${agent}`,
        });
      chosen = [found];
    } else chosen = selectVersions(listing.versions, selection, agent);
    const merged = new Map((byAgent.get(agent) ?? []).map((v) => [v.version, v]));
    for (const v of chosen) merged.set(v.version, v);
    byAgent.set(agent, [...merged.values()]);
  }

  const prepared = new Map<string, PreparedVersion[]>();
  const skippedPlans: SkippedPlan[] = [];
  for (const [agent, infos] of byAgent) {
    const list: PreparedVersion[] = [];
    for (const info of infos) {
      const p = await prepareVersion(agent, info, storeRoot, logger);
      if (p.notPlan !== undefined) {
        if (options.requireReal)
          throw new ForgeError(
            "TRITON_ENGINE_NOT_REAL",
            `version "${info.version}" of agent "${agent}": ${p.notPlan}; --require-real exports real engines only`,
            {
              input: `${agent}@${info.version}`,
              fix: "build the engine on a GPU host with TensorRT (build-engine without --marker), or export without --require-real to skip the plan and keep the ONNX fallback",
            },
          );
        skippedPlans.push({ agent, version: info.version, reason: p.notPlan });
        logger?.warn({ agent, version: info.version }, `no plan exported: ${p.notPlan}`);
      }
      list.push(p);
    }
    prepared.set(agent, list);
  }

  // Numbers: kept from the previous export of this store, new ones after the highest.
  let map: VersionMap = previous ?? emptyVersionMap(storeRoot);
  for (const [agent, list] of prepared) {
    const groups = ccGroups(list);
    map = assignNumbers(
      map,
      agent,
      list.map((p) => ({
        version: p.info.version,
        ...(groups.get(p.info.version) === undefined ? {} : { group: groups.get(p.info.version)! }),
        entry: {
          model_id: p.metadata?.model_id ?? p.info.modelId ?? null,
          revision: p.metadata?.hf_revision ?? p.info.revision ?? null,
          trt_version: p.metadata?.trt_version ?? null,
          checksum: p.info.checksum ?? "",
        },
      })),
    );
  }

  const stagingRoot = join(dirname(out), `${stagingPrefix(out)}${randomBytes(4).toString("hex")}`);
  await mkdir(stagingRoot);
  const models: ExportedModel[] = [];
  const numbers: Record<string, Record<string, number>> = {};
  try {
    for (const [agent, list] of prepared) {
      const entries = map.agents[agent]!;
      numbers[agent] = Object.fromEntries(list.map((p) => [p.info.version, entries[p.info.version]!.number]));
      models.push(
        ...(await writeAgent(stagingRoot, agent, list, entries, selection, deviceMap, mode, options.testOnlyPythonOnnx ?? false)),
      );
    }
    await writeFile(join(stagingRoot, VERSION_MAP_FILE), `${JSON.stringify(map, null, 2)}\n`);
    const files = (await listTree(stagingRoot)).length;
    await swapInto(stagingRoot, out);
    logger?.info({ out, models: models.length, files }, "Triton model repository written");
    return { out, storeRoot, models, skippedPlans, numbers, files };
  } catch (err) {
    await rm(stagingRoot, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Versions holding the same build (model, revision, TensorRT version, precision, profile) for
 * different compute capabilities become one Triton version with one plan per GPU generation.
 */
function ccGroups(list: readonly PreparedVersion[]): Map<string, string> {
  const byKey = new Map<string, PreparedVersion[]>();
  for (const p of list) {
    const m = p.metadata;
    if (p.notPlan !== undefined || m === undefined || m.gpu === null) continue;
    const key = [m.model_id, m.hf_revision, m.trt_version, m.precision, m.max_batch_size, m.seq_len].join("|");
    byKey.set(key, [...(byKey.get(key) ?? []), p]);
  }
  const groups = new Map<string, string>();
  for (const [key, members] of byKey) {
    const ccs = new Set(members.map((p) => p.metadata!.gpu!.compute_capability));
    if (members.length > 1 && ccs.size === members.length) for (const p of members) groups.set(p.info.version, key);
  }
  return groups;
}

function ccFileName(cc: string): string {
  return `model_sm${cc.replace(".", "")}.plan`;
}

async function swapInto(staging: string, out: string): Promise<void> {
  const old = `${staging}.old`;
  let hadOld = false;
  try {
    await rename(out, old);
    hadOld = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  try {
    await rename(staging, out);
  } catch (err) {
    if (hadOld) await rename(old, out);
    throw err;
  }
  if (hadOld) await rm(old, { recursive: true, force: true });
}

async function writeConfig(dir: string, config: PbMessage, header?: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "config.pbtxt"), `${header === undefined ? "" : header}${toPbtxt(config)}`);
}

async function writeWarmupTokens(modelDir: string, tokens: Record<string, BigInt64Array>, seqLen: number): Promise<Warmup> {
  await mkdir(join(modelDir, "warmup"), { recursive: true });
  const inputs: Warmup["inputs"][number][] = [];
  for (const [name, values] of Object.entries(tokens)) {
    await writeFile(join(modelDir, "warmup", name), Buffer.from(values.buffer, values.byteOffset, values.byteLength));
    inputs.push({ name, dataType: "TYPE_INT64", dims: [seqLen], file: name });
  }
  return { inputs };
}

async function writeAgent(
  repo: string,
  agent: string,
  list: readonly PreparedVersion[],
  entries: VersionMap["agents"][string],
  selection: VersionSelection,
  deviceMap: DeviceMap | undefined,
  mode: PlaceMode,
  standIn: boolean,
): Promise<ExportedModel[]> {
  const name = tritonName(agent);
  const numberOf = (p: PreparedVersion): number => entries[p.info.version]!.number;
  const factsOf = (p: PreparedVersion): VersionFacts => {
    const e = entries[p.info.version]!;
    return {
      number: e.number,
      storeVersion: p.info.version,
      modelId: e.model_id,
      revision: e.revision,
      trtVersion: e.trt_version,
      checksum: e.checksum,
    };
  };
  // The config describes the version serve-engine would serve: current when exported, else the newest.
  const primary = list.find((p) => p.info.isCurrent) ?? list[list.length - 1]!;
  const policyFor = (members: readonly PreparedVersion[]): VersionPolicy =>
    selection === "current" && members.includes(primary) ? { kind: "specific", versions: [numberOf(primary)] } : { kind: "all" };
  const uniqueNumbers = (members: readonly PreparedVersion[]): number[] => [...new Set(members.map(numberOf))].sort((a, b) => a - b);

  const tokenizer = await loadTokenizer(primary.tokenizerDir);
  const maxSeq = primary.metadata?.seq_len ?? tokenizer.modelMaxLength ?? 512;
  const maxBatch = primary.metadata?.max_batch_size ?? 16;
  const optBatch = Number(primary.metadata?.build_options.opt_batch_size ?? maxBatch);
  const encoded = tokenizer.encodeBatch([WARMUP_TEXTS[0]!], { maxLength: maxSeq, padding: "longest", truncation: true });
  const warmTokens: Record<string, BigInt64Array> = { input_ids: encoded.inputIds, attention_mask: encoded.attentionMask };
  if (encoded.tokenTypeIds !== undefined) warmTokens.token_type_ids = encoded.tokenTypeIds;
  const modelInputs = primary.onnx.inputs.map((i) => i.name);
  const tokenInputs: string[] = tokenizer.inputNames.filter((n) => modelInputs.includes(n));
  for (const key of Object.keys(warmTokens)) if (!tokenInputs.includes(key)) delete warmTokens[key];
  const head = primary.configPath === undefined ? undefined : await readClassifierHead(primary.configPath);
  const logits = primary.onnx.outputs.find((o) => o.name === "logits");
  const classifier = head !== undefined && logits !== undefined ? { head, logits } : undefined;
  const gpus = primary.engineFile === undefined || deviceMap === undefined ? [] : [...deviceMap.devicesFor(primary.engineFile)];

  const models: ExportedModel[] = [];

  // <name>: TensorRT plans of real engines.
  const plans = list.filter((p) => p.notPlan === undefined);
  if (plans.length > 0) {
    const dir = join(repo, name);
    const ccs = new Set(plans.map((p) => p.metadata!.gpu?.compute_capability).filter((c): c is string => c !== undefined));
    const multiCc = ccs.size > 1;
    for (const p of plans) {
      const cc = p.metadata!.gpu?.compute_capability;
      const file = multiCc && cc !== undefined ? ccFileName(cc) : "model.plan";
      await placeFile(join(p.verified.path, p.engineFile!), join(dir, String(numberOf(p)), file), mode);
    }
    const planWarmup = await writeWarmupTokens(dir, warmTokens, encoded.seqLen);
    const facts = plans.map(factsOf);
    await writeConfig(
      dir,
      batchedModelConfig({
        name,
        platform: "tensorrt_plan",
        maxBatchSize: maxBatch,
        preferredBatchSize: optBatch,
        inputs: primary.onnx.inputs,
        outputs: primary.onnx.outputs,
        placement: { gpus },
        versionPolicy: policyFor(plans),
        facts,
        warmup: planWarmup,
        ...(multiCc ? { ccModelFilenames: [...ccs].sort().map((cc) => [cc, ccFileName(cc)] as const) } : {}),
      }),
    );
    models.push({ name, kind: "tensorrt_plan", versions: uniqueNumbers(plans) });
  }

  // <name>_onnx: the ONNX serve-engine's fallback would run (or the test-only Python stand-in).
  const onnxName = `${name}_onnx`;
  const onnxDir = join(repo, onnxName);
  for (const p of list) {
    const target = join(onnxDir, String(numberOf(p)));
    await placeFile(join(p.verified.path, p.onnxFile), join(target, "model.onnx"), mode);
    const onnxFolder = dirname(p.onnxFile);
    for (const ext of p.onnx.externalFiles) await placeFile(join(p.verified.path, onnxFolder, ext), join(target, ext), mode);
    if (standIn) await writeFile(join(target, "model.py"), await onnxStandInSource());
  }
  await writeConfig(
    onnxDir,
    batchedModelConfig({
      name: onnxName,
      platform: standIn ? "python" : "onnxruntime_onnx",
      maxBatchSize: maxBatch,
      preferredBatchSize: optBatch,
      inputs: primary.onnx.inputs,
      outputs: primary.onnx.outputs,
      placement: { gpus },
      versionPolicy: policyFor(list),
      facts: list.map(factsOf),
      warmup: await writeWarmupTokens(onnxDir, warmTokens, encoded.seqLen),
      extraParameters: [["onnx_file", primary.onnxFile], ...(standIn ? ([["test_only_stand_in", "true"]] as const) : [])],
    }),
    standIn
      ? '# TEST-ONLY STAND-IN: a Python-backend model running model.onnx with onnxruntime, written by\n# export-triton --test-only-python-onnx for Triton builds without the ONNX Runtime backend. A real\n# export writes platform "onnxruntime_onnx" here.\n'
      : undefined,
  );
  models.push({ name: onnxName, kind: standIn ? "python-onnx-test-stand-in" : "onnxruntime_onnx", versions: uniqueNumbers(list) });

  // <name>_tokenize: the version's own tokenizer files under the Python backend.
  const tokenizeName = `${name}_tokenize`;
  const tokenizeDir = join(repo, tokenizeName);
  for (const p of list) {
    const target = join(tokenizeDir, String(numberOf(p)));
    for (const file of await listTree(p.tokenizerDir)) await placeFile(join(p.tokenizerDir, file), join(target, "tokenizer", file), mode);
    const own = await loadTokenizer(p.tokenizerDir);
    const settings = {
      max_length: p.metadata?.seq_len ?? own.modelMaxLength ?? 512,
      pad_token_id: own.padTokenId ?? 0,
      input_names: own.inputNames.filter((n) => p.onnx.inputs.some((i) => i.name === n)),
    };
    await writeFile(join(target, "tokenize.json"), `${JSON.stringify(settings, null, 2)}\n`);
    await writeFile(join(target, "model.py"), await tokenizeModelSource());
  }
  await mkdir(join(tokenizeDir, "warmup"), { recursive: true });
  await writeFile(join(tokenizeDir, "warmup", "TEXT"), bytesElement(WARMUP_TEXTS[0]!));
  await writeConfig(
    tokenizeDir,
    tokenizeModelConfig({
      name: tokenizeName,
      inputNames: tokenInputs,
      versionPolicy: policyFor(list),
      facts: list.map(factsOf),
      warmup: { inputs: [{ name: "TEXT", dataType: "TYPE_STRING", dims: [1], file: "TEXT" }] },
    }),
  );
  models.push({ name: tokenizeName, kind: "tokenizer", versions: uniqueNumbers(list) });

  // <name>_labels: the classifier head, for models whose config.json names labels.
  let labels: { model: string; logits: string; classes: number } | undefined;
  if (classifier !== undefined) {
    const labelsName = `${name}_labels`;
    const labelsDir = join(repo, labelsName);
    const classes = classifier.head.labels.length;
    for (const p of list) {
      const target = join(labelsDir, String(numberOf(p)));
      const own = p.configPath === undefined ? undefined : await readClassifierHead(p.configPath);
      await mkdir(target, { recursive: true });
      await writeFile(
        join(target, "labels.json"),
        `${JSON.stringify({ labels: (own ?? classifier.head).labels, problem_type: (own ?? classifier.head).multiLabel ? "multi_label_classification" : "single_label_classification", logits: "logits" }, null, 2)}\n`,
      );
      await writeFile(join(target, "model.py"), await labelsModelSource());
    }
    await writeConfig(
      labelsDir,
      labelsModelConfig({ name: labelsName, logits: classifier.logits, classes, versionPolicy: policyFor(list), facts: list.map(factsOf) }),
    );
    models.push({ name: labelsName, kind: "labels", versions: uniqueNumbers(list) });
    labels = { model: labelsName, logits: "logits", classes };
  }

  // <name>_text: what serve-engine takes (text) and returns, wired through the models above.
  const textName = `${name}_text`;
  await writeConfig(
    join(repo, textName),
    ensembleConfig({
      name: textName,
      tokenizer: tokenizeName,
      inputNames: tokenInputs,
      model: plans.length > 0 && !standIn ? name : onnxName,
      modelOutputs: primary.onnx.outputs,
      ...(labels === undefined ? {} : { labels }),
    }),
  );
  // An ensemble needs one (empty) version folder to be loadable.
  await mkdir(join(repo, textName, "1"), { recursive: true });
  models.push({ name: textName, kind: "ensemble", versions: [1] });
  return models;
}
