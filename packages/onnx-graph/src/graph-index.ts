import type { GraphProto, NodeProto, TensorProto } from "./proto-types.js";

export interface TensorUse {
  node: NodeProto;
  nodeIndex: number;
  inputIndex: number;
}

/** Who produces and who reads each tensor of one graph (not of its subgraphs). */
export interface GraphIndex {
  readonly initializers: ReadonlyMap<string, TensorProto>;
  readonly producers: ReadonlyMap<string, NodeProto>;
  readonly consumers: ReadonlyMap<string, readonly TensorUse[]>;
  readonly inputs: ReadonlySet<string>;
  readonly outputs: ReadonlySet<string>;
}

export function indexGraph(graph: GraphProto): GraphIndex {
  const initializers = new Map(graph.initializer.map((t) => [t.name, t]));
  const producers = new Map<string, NodeProto>();
  const consumers = new Map<string, TensorUse[]>();
  graph.node.forEach((node, nodeIndex) => {
    for (const output of node.output) if (output !== "") producers.set(output, node);
    node.input.forEach((input, inputIndex) => {
      if (input === "") return;
      let uses = consumers.get(input);
      if (uses === undefined) consumers.set(input, (uses = []));
      uses.push({ node, nodeIndex, inputIndex });
    });
  });
  return {
    initializers,
    producers,
    consumers,
    inputs: new Set(graph.input.map((v) => v.name)),
    outputs: new Set(graph.output.map((v) => v.name)),
  };
}

/** Hands out tensor and node names that the graph does not use yet. */
/** A node of the default ONNX domain (written "" or "ai.onnx"), whose op types the standard defines. */
export function isStandardDomain(node: NodeProto): boolean {
  return node.domain === "" || node.domain === "ai.onnx";
}

export class NameAllocator {
  private readonly taken = new Set<string>();

  constructor(graph: GraphProto) {
    for (const v of [...graph.input, ...graph.output, ...graph.value_info]) this.taken.add(v.name);
    for (const t of graph.initializer) this.taken.add(t.name);
    for (const node of graph.node) {
      this.taken.add(node.name);
      for (const name of [...node.input, ...node.output]) this.taken.add(name);
    }
  }

  fresh(base: string): string {
    let name = base;
    for (let n = 1; this.taken.has(name); n++) name = `${base}_${n}`;
    this.taken.add(name);
    return name;
  }
}
