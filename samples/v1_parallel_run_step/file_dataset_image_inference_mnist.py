"""MNIST-like image inference with an SDK v1 ParallelRunStep, on Dask.

The shape of Azure's "file-dataset-image-inference-mnist" notebook: a FileDataset given
as a dataset-valued PipelineParameter, an Environment built from CondaDependencies, a
ParallelRunConfig whose mini_batch_size and process_count_per_node are PipelineParameters,
then a second submit with another dataset (a single image).

What differs from the Azure version: ``azureml.*`` imports come from ``dask_parallel.v1``;
the Workspace, compute target and datastore registration are gone; the images are a local
folder (``./mnist``) instead of a blob container; the model ships with the code instead of
being registered. Run it from this folder: ``python file_dataset_image_inference_mnist.py``.
"""

import os
import tempfile

import pandas as pd

from dask_parallel.v1 import (
    DEFAULT_CPU_IMAGE,
    CondaDependencies,
    Dataset,
    DatasetConsumptionConfig,
    Environment,
    Experiment,
    ParallelRunConfig,
    ParallelRunStep,
    Pipeline,
    PipelineData,
    PipelineParameter,
)

ws = None  # Azure: Workspace.from_config(); not needed on Dask
compute_target = "cpu-cluster"  # accepted, not used: the step runs on the Dask cluster

# The input images, as a pipeline parameter so that another dataset can be passed later
input_mnist_ds = Dataset.File.from_files(path="./mnist", validate=False)
pipeline_param = PipelineParameter(name="mnist_param", default_value=input_mnist_ds)
input_mnist_ds_consumption = DatasetConsumptionConfig("minist_param_config", pipeline_param).as_mount()

output_dir = PipelineData(name="inferences", datastore=None)

# The environment Azure would build (recorded, not installed, on Dask)
batch_conda_deps = CondaDependencies.create(
    python_version="3.10", conda_packages=["pip"], pip_packages=["numpy", "pillow"]
)
batch_env = Environment(name="batch_environment")
batch_env.python.conda_dependencies = batch_conda_deps
batch_env.docker.base_image = DEFAULT_CPU_IMAGE

parallel_run_config = ParallelRunConfig(
    source_directory="Code",
    entry_script="digit_identification.py",
    mini_batch_size=PipelineParameter(name="batch_size_param", default_value="5"),
    error_threshold=10,
    output_action="append_row",
    append_row_file_name="mnist_outputs.txt",
    environment=batch_env,
    compute_target=compute_target,
    process_count_per_node=PipelineParameter(name="process_count_param", default_value=2),
    node_count=1,
)

parallelrun_step = ParallelRunStep(
    name="predict-digits-mnist",
    parallel_run_config=parallel_run_config,
    inputs=[input_mnist_ds_consumption],
    output=output_dir,
    allow_reuse=False,
)


def read_predictions(pipeline_run) -> pd.DataFrame:
    batch_run = pipeline_run.find_step_run(parallelrun_step.name)[0]
    batch_output = batch_run.get_output_data(output_dir.name)
    target_dir = tempfile.mkdtemp()
    batch_output.download(local_path=target_dir)
    result_file = os.path.join(
        target_dir, batch_output.path_on_datastore, parallel_run_config.append_row_file_name
    )
    df = pd.read_csv(result_file, delimiter=":", header=None)
    df.columns = ["Filename", "Prediction"]
    return df


if __name__ == "__main__":
    pipeline = Pipeline(workspace=ws, steps=[parallelrun_step])
    experiment = Experiment(ws, "digit_identification")
    pipeline_run = experiment.submit(pipeline)
    pipeline_run.wait_for_completion(show_output=True)
    df = read_predictions(pipeline_run)
    print("Prediction has ", df.shape[0], " rows")
    print(df.head(10))

    # Resubmit with a different dataset: a single image
    single_image_ds = Dataset.File.from_files(path="./mnist/0.png", validate=False)
    pipeline_run_2 = experiment.submit(
        pipeline,
        pipeline_parameters={
            "mnist_param": single_image_ds,
            "batch_size_param": "1",
            "process_count_param": 1,
        },
    )
    pipeline_run_2.wait_for_completion(show_output=True)
    print("Second run prediction has ", read_predictions(pipeline_run_2).shape[0], " rows")
