"""Write one PNG image per handwritten digit of digits_sample.csv into --output_folder.

The Azure sample downloads MNIST here; this one turns a small local copy of 8x8 digit
scans (pixel values 0..16) into grayscale PNG files named <index>_<label>.png.
"""

import argparse
import csv
import os

import numpy as np
from PIL import Image

parser = argparse.ArgumentParser()
parser.add_argument("--output_folder", type=str, required=True)
args = parser.parse_args()

os.makedirs(args.output_folder, exist_ok=True)
source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "digits_sample.csv")
with open(source, encoding="utf-8") as handle:
    rows = list(csv.DictReader(handle))
for index, row in enumerate(rows):
    pixels = np.array([int(row[f"p{i}"]) for i in range(64)], dtype=np.uint8).reshape(8, 8)
    image = Image.fromarray(pixels * 15)  # 0..16 -> 0..240 grey levels
    image.save(os.path.join(args.output_folder, f"{index:03d}_{row['label']}.png"))
print(f"wrote {len(rows)} images to {args.output_folder}")
