import type { AttributeProto, GraphProto, ModelProto, NodeProto, SparseTensorProto, TensorProto } from "./proto-types.js";

/** Where a tensor sits: initializers are what external data normally holds. */
export type TensorRole = "initializer" | "attribute";

export type TensorVisitor = (tensor: TensorProto, role: TensorRole) => void;

function visitSparse(sparse: SparseTensorProto | null | undefined, role: TensorRole, visit: TensorVisitor): void {
  if (sparse === null || sparse === undefined) return;
  if (sparse.values) visit(sparse.values, role);
  if (sparse.indices) visit(sparse.indices, role);
}

function visitAttribute(attribute: AttributeProto, visit: TensorVisitor): void {
  if (attribute.t) visit(attribute.t, "attribute");
  for (const tensor of attribute.tensors) visit(tensor, "attribute");
  visitSparse(attribute.sparse_tensor, "attribute", visit);
  for (const sparse of attribute.sparse_tensors) visitSparse(sparse, "attribute", visit);
  if (attribute.g) visitGraph(attribute.g, visit);
  for (const graph of attribute.graphs) visitGraph(graph, visit);
}

function visitNodes(nodes: readonly NodeProto[], visit: TensorVisitor): void {
  for (const node of nodes) for (const attribute of node.attribute) visitAttribute(attribute, visit);
}

function visitGraph(graph: GraphProto, visit: TensorVisitor): void {
  for (const tensor of graph.initializer) visit(tensor, "initializer");
  for (const sparse of graph.sparse_initializer) visitSparse(sparse, "initializer", visit);
  visitNodes(graph.node, visit);
}

/**
 * Calls `visit` for every TensorProto in the model, depth first: the main graph (initializers,
 * then node attributes and their subgraphs), training graphs, then functions.
 */
export function forEachTensor(model: ModelProto, visit: TensorVisitor): void {
  if (model.graph) visitGraph(model.graph, visit);
  for (const training of model.training_info) {
    if (training.initialization) visitGraph(training.initialization, visit);
    if (training.algorithm) visitGraph(training.algorithm, visit);
  }
  for (const fn of model.functions) visitNodes(fn.node, visit);
}
