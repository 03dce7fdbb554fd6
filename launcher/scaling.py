"""`s2s aws deploy --autoscale MIN:MAX[:TARGET]`: Application Auto Scaling on the endpoint's variant, by
target tracking: its instance count on invocations per instance, or a serverless endpoint's
provisioned concurrency on its utilisation."""
from dataclasses import dataclass

from data_prep.errors import S2SError
from launcher.endpoint import VARIANT, Serverless

# What each kind of endpoint scales, on which metric, and the metric's target unless one is given:
# SageMaker's own examples' invocations a minute per instance, and half the provisioned concurrency in use.
INSTANCES = ("sagemaker:variant:DesiredInstanceCount", "SageMakerVariantInvocationsPerInstance", 70.0)
PROVISIONED = ("sagemaker:variant:DesiredProvisionedConcurrency",
               "SageMakerVariantProvisionedConcurrencyUtilization", 0.5)
SCALE_IN_COOLDOWN_S, SCALE_OUT_COOLDOWN_S = 300, 60


@dataclass(frozen=True)
class Autoscale:
    minimum: int
    maximum: int
    target: float | None = None

    @classmethod
    def parse(cls, text: str) -> "Autoscale":
        parts = text.split(":")
        try:
            if len(parts) not in (2, 3):
                raise ValueError
            spec = cls(int(parts[0]), int(parts[1]), float(parts[2]) if len(parts) == 3 else None)
        except ValueError:
            raise S2SError(f"--autoscale {text!r}: expected MIN:MAX[:TARGET], e.g. 1:4 or 1:4:100") from None
        if not 1 <= spec.minimum <= spec.maximum:
            raise S2SError(f"--autoscale {text!r}: MIN must be at least 1 and at most MAX")
        if spec.target is not None and spec.target <= 0:
            raise S2SError(f"--autoscale {text!r}: the TARGET must be above 0")
        return spec

    def check(self, serverless: Serverless | None, instance_count: int) -> None:
        """What SageMaker would refuse only once the endpoint is up, refused before anything is made."""
        if serverless is None:
            if not self.minimum <= instance_count <= self.maximum:
                raise S2SError(f"--instance-count {instance_count} is outside --autoscale {self.minimum}:{self.maximum}")
            return
        if serverless.provisioned is None:
            raise S2SError("--autoscale on a serverless endpoint scales its provisioned concurrency: give it one, "
                           "--serverless MEMORY_MB,MAX_CONCURRENCY,PROVISIONED")
        if self.maximum > serverless.max_concurrency:
            raise S2SError(f"--autoscale: at most {self.maximum} provisioned, over the maximum concurrency "
                           f"{serverless.max_concurrency}")
        if serverless.provisioned is not None and not self.minimum <= serverless.provisioned <= self.maximum:
            raise S2SError(f"--serverless provisioned concurrency {serverless.provisioned} is outside --autoscale "
                           f"{self.minimum}:{self.maximum}")
        if self.target is not None and self.target > 1:
            raise S2SError(f"--autoscale: a serverless endpoint's TARGET is the share of provisioned concurrency in "
                           f"use, 0 to 1, not {self.target:g}")


def resource_id(endpoint: str) -> str:
    return f"endpoint/{endpoint}/variant/{VARIANT}"


def apply_autoscale(autoscaling, endpoint: str, spec: Autoscale, serverless: Serverless | None) -> dict:
    """Registers the variant as a scalable target and puts a target-tracking policy on it; returns the policy's
    configuration."""
    dimension, metric, default = PROVISIONED if serverless else INSTANCES
    autoscaling.register_scalable_target(ServiceNamespace="sagemaker", ResourceId=resource_id(endpoint),
                                         ScalableDimension=dimension, MinCapacity=spec.minimum,
                                         MaxCapacity=spec.maximum)
    configuration = {"TargetValue": spec.target if spec.target is not None else default,
                     "PredefinedMetricSpecification": {"PredefinedMetricType": metric},
                     "ScaleInCooldown": SCALE_IN_COOLDOWN_S, "ScaleOutCooldown": SCALE_OUT_COOLDOWN_S}
    autoscaling.put_scaling_policy(PolicyName=f"{endpoint}-target-tracking", ServiceNamespace="sagemaker",
                                   ResourceId=resource_id(endpoint), ScalableDimension=dimension,
                                   PolicyType="TargetTrackingScaling",
                                   TargetTrackingScalingPolicyConfiguration=configuration)
    return configuration


def remove_autoscale(autoscaling, endpoint: str) -> int:
    """Deregisters the variant's scalable targets (their policies go with them); returns how many."""
    targets = autoscaling.describe_scalable_targets(ServiceNamespace="sagemaker",
                                                    ResourceIds=[resource_id(endpoint)])["ScalableTargets"]
    for target in targets:
        autoscaling.deregister_scalable_target(ServiceNamespace="sagemaker", ResourceId=target["ResourceId"],
                                               ScalableDimension=target["ScalableDimension"])
    return len(targets)
