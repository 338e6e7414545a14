#!/usr/bin/env python3
"""Top-1 agreement between onnxruntime and this runtime on the same ONNX model over the Fashion-MNIST test set.

usage: qdq_agreement.py MODEL.onnx CEMA_PREDICTIONS.txt [--quantize-static OUT.onnx --fp32 MODEL.onnx]
CEMA_PREDICTIONS.txt comes from `cema evaluate MODEL --predictions FILE`. With --quantize-static, first writes
onnxruntime.quantization.quantize_static's QDQ model of --fp32 (calibrated on 512 training images) and exits.
"""
import gzip, sys
import numpy as np
import onnxruntime as ort

DATA = "/usr/share/datasets/fashion-mnist"


def idx_images(path):
    raw = gzip.open(path).read()
    n, rows, cols = (int.from_bytes(raw[i:i + 4], "big") for i in (4, 8, 12))
    return np.frombuffer(raw, np.uint8, offset=16).reshape(n, 1, rows, cols).astype(np.float32) / 255


def idx_labels(path):
    return np.frombuffer(gzip.open(path).read(), np.uint8, offset=8)


def predict(model, images):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    s = ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])
    name = s.get_inputs()[0].name
    return np.concatenate([s.run(None, {name: images[i:i + 500]})[0].argmax(1) for i in range(0, len(images), 500)])


def quantize_static(fp32, out):
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static as qs
    calib = idx_images(f"{DATA}/train-images-idx3-ubyte.gz")[:512]

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter([{"input": calib[i:i + 32]} for i in range(0, len(calib), 32)])

        def get_next(self):
            return next(self.it, None)

    qs(fp32, out, Reader(), quant_format=QuantFormat.QDQ, per_channel=True, activation_type=QuantType.QUInt8,
       weight_type=QuantType.QInt8)
    print(f"wrote {out}")


def main():
    args = sys.argv[1:]
    if "--quantize-static" in args:
        quantize_static(args[args.index("--fp32") + 1], args[args.index("--quantize-static") + 1])
        return
    model, ours_path = args[0], args[1]
    images = idx_images(f"{DATA}/t10k-images-idx3-ubyte.gz")
    labels = idx_labels(f"{DATA}/t10k-labels-idx1-ubyte.gz")
    theirs = predict(model, images)
    ours = np.array([int(l) for l in open(ours_path)])
    if len(ours) != len(theirs):
        sys.exit(f"{ours_path} has {len(ours)} predictions, the test set {len(theirs)} images")
    print(f"{model}: onnxruntime accuracy {100 * (theirs == labels).mean():.2f}%, this runtime {100 * (ours == labels).mean():.2f}%, "
          f"top-1 agreement {100 * (theirs == ours).mean():.2f}% ({(theirs == ours).sum()}/{len(ours)})")


if __name__ == "__main__":
    main()
