import { badRequest } from "./protocol-error.js";
import { decodeBinaryData, decodeJsonData, parseInferHeader, type DecodedInput, type InferCall } from "./infer-request.js";
import type { OutputTensor } from "@trtforge/runtime";

/**
 * The binary tensor data extension (Triton's `binary_tensor_data`): a body is a JSON header of
 * `headerLength` bytes followed by the raw tensors in the order of the inputs that carry a
 * `binary_data_size` parameter. Without the length the whole body is JSON.
 */
export function decodeInferBody(body: Buffer, headerLength: number | undefined): InferCall {
  if (headerLength !== undefined && headerLength > body.length) {
    throw badRequest(`Inference-Header-Content-Length is ${headerLength} but the body has only ${body.length} bytes`);
  }
  const jsonBytes = headerLength === undefined ? body : body.subarray(0, headerLength);
  let json: unknown;
  try {
    json = JSON.parse(jsonBytes.toString("utf8"));
  } catch (err) {
    throw badRequest(`the infer request header is not valid JSON: ${(err as Error).message}`);
  }
  const header = parseInferHeader(json);
  let offset = headerLength ?? body.length;
  const inputs: DecodedInput[] = header.inputs.map((input) => {
    const size = input.parameters?.binary_data_size;
    if (size === undefined) return { name: input.name, datatype: input.datatype, shape: input.shape, data: decodeJsonData(input) };
    if (input.data !== undefined) throw badRequest(`input "${input.name}" has both data and binary_data_size; send one`);
    if (headerLength === undefined)
      throw badRequest(`input "${input.name}" has binary_data_size but the request has no Inference-Header-Content-Length header`);
    if (offset + size > body.length) {
      throw badRequest(
        `input "${input.name}": binary_data_size ${size} reaches past the end of the body (${body.length - offset} binary bytes left)`,
      );
    }
    const data = decodeBinaryData(input, body.subarray(offset, offset + size));
    offset += size;
    return { name: input.name, datatype: input.datatype, shape: input.shape, data };
  });
  if (offset !== body.length) {
    throw badRequest(`the body has ${body.length - offset} binary byte(s) that no input's binary_data_size accounts for`);
  }
  return {
    id: header.id,
    truncate: header.parameters?.truncate === true,
    inputs,
    outputs: header.outputs?.map((output) => ({
      name: output.name,
      binary: output.parameters?.binary_data ?? header.parameters?.binary_data_output === true,
      ...(output.parameters?.classification === undefined ? {} : { classCount: output.parameters.classification }),
    })),
    binaryByDefault: header.parameters?.binary_data_output === true,
  };
}

/** Raw little-endian bytes of an output tensor; BYTES elements as 4-byte length + UTF-8. */
export function tensorBytes(tensor: OutputTensor): Buffer {
  switch (tensor.datatype) {
    case "FP32":
    case "INT64":
      return Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
    case "BYTES": {
      const parts: Buffer[] = [];
      for (const value of tensor.data) {
        const text = Buffer.from(value, "utf8");
        const length = Buffer.alloc(4);
        length.writeUInt32LE(text.length, 0);
        parts.push(length, text);
      }
      return Buffer.concat(parts);
    }
  }
}

/** JSON `data` of an output tensor (flat, row-major). */
export function tensorJsonData(tensor: OutputTensor): (number | string)[] {
  switch (tensor.datatype) {
    case "FP32":
      return Array.from(tensor.data);
    case "INT64":
      return Array.from(tensor.data, (value) => Number(value));
    case "BYTES":
      return [...tensor.data];
  }
}
