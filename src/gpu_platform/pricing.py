"""The `pricing` section of the stack config: overrides of the catalog's list prices, which the
cost estimate, the GPU cost rules and OpenCost read."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from gpu_platform.spec import Spec

# A finite price below any machine's (the largest GPU instances list at about 100 USD an hour),
# so that the estimate stays a number.
HourlyPrice = Annotated[float, Field(gt=0, le=10_000, allow_inf_nan=False)]


class PricingSpec(Spec):
    """Overrides for the catalog's list prices used by the cost estimate."""

    spot_discount: float | None = Field(
        None,
        ge=0,
        lt=1,
        description=(
            "Fraction below on-demand that spot nodes cost (0.6 = 60 % cheaper). Default: the "
            "catalog's conservative estimate."
        ),
    )
    hourly_usd: dict[str, HourlyPrice] = Field(
        default_factory=dict,
        description=(
            "On-demand USD per hour by instance/machine type (or the managed vector store's "
            "database class), for prices negotiated or newer than the catalog's, e.g. "
            "{g6.xlarge: 0.75}."
        ),
    )
