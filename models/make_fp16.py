#!/usr/bin/env python3
"""Write the fp16 ONNX files the runtime's tests load (an fp16 file must load and run on the board), and
onnxruntime's logits for them on the golden batch:

  .venv-models/bin/pip install onnxconverter-common==1.16.0 && .venv-models/bin/python models/make_fp16.py

  models/golden/edge_fp16.onnx            edge.onnx through onnxconverter-common's convert_float_to_float16:
                                          every float tensor float16, inputs and outputs too
  models/golden/edge_fp16_io32.onnx       the same with keep_io_types=True (float32 in and out, Cast nodes)
  models/golden/edge_fp16_batch_logits.f32   [16, 10] float32: onnxruntime's logits of edge_fp16.onnx for
                                          edge_batch_input.f32 (fed as float16)
"""
import os

import numpy as np
import onnx
import onnxruntime as ort
from onnxconverter_common import float16

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "golden")


def main():
    model = onnx.load(os.path.join(HERE, "edge.onnx"))
    for keep, name in [(False, "edge_fp16.onnx"), (True, "edge_fp16_io32.onnx")]:
        converted = float16.convert_float_to_float16(model, keep_io_types=keep)
        onnx.checker.check_model(converted)
        onnx.save(converted, os.path.join(GOLDEN, name))
    x = np.fromfile(os.path.join(GOLDEN, "edge_batch_input.f32"), dtype="<f4").reshape(16, 1, 28, 28)
    session = ort.InferenceSession(os.path.join(GOLDEN, "edge_fp16.onnx"), providers=["CPUExecutionProvider"])
    logits = session.run(None, {session.get_inputs()[0].name: x.astype(np.float16)})[0]
    logits.astype("<f4").tofile(os.path.join(GOLDEN, "edge_fp16_batch_logits.f32"))
    reference = np.fromfile(os.path.join(GOLDEN, "edge_batch_logits.f32"), dtype="<f4").reshape(16, 10)
    print("max |onnxruntime fp16 - PyTorch fp32| =", float(np.abs(logits.astype(np.float32) - reference).max()))


if __name__ == "__main__":
    main()
