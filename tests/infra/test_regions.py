"""Where the deployment can go, and how redundant its storage is there.

FLEX_REGIONS is Microsoft's list of Flex Consumption regions in its azd template
(Azure-Samples/functions-quickstart-python-http-azd, infra/main.bicep, November 2025) without the canary
region eastus2euap. ZRS_REGIONS is Microsoft's list of regions with ZRS for standard general-purpose v2
accounts (learn.microsoft.com/azure/storage/common/redundancy-regions-zrs); only its Flex regions matter here.
"""

from __future__ import annotations

import pytest

from tests.infra.bicepdoc import doc, evaluate, main_parameters, source

FLEX_REGIONS = [
    "australiaeast",
    "australiasoutheast",
    "brazilsouth",
    "canadacentral",
    "centralindia",
    "centralus",
    "eastasia",
    "eastus",
    "eastus2",
    "francecentral",
    "germanywestcentral",
    "italynorth",
    "japaneast",
    "koreacentral",
    "northcentralus",
    "northeurope",
    "norwayeast",
    "southafricanorth",
    "southcentralus",
    "southeastasia",
    "southindia",
    "spaincentral",
    "swedencentral",
    "uaenorth",
    "uksouth",
    "ukwest",
    "westcentralus",
    "westeurope",
    "westus",
    "westus2",
    "westus3",
]
ZRS_REGIONS = {
    "southafricanorth",
    "australiaeast",
    "centralindia",
    "eastasia",
    "japaneast",
    "koreacentral",
    "southeastasia",
    "francecentral",
    "germanywestcentral",
    "italynorth",
    "northeurope",
    "norwayeast",
    "polandcentral",
    "spaincentral",
    "swedencentral",
    "switzerlandnorth",
    "uksouth",
    "westeurope",
    "israelcentral",
    "qatarcentral",
    "uaenorth",
    "canadacentral",
    "centralus",
    "eastus",
    "eastus2",
    "mexicocentral",
    "southcentralus",
    "westus2",
    "westus3",
    "brazilsouth",
}


def test_location_is_limited_to_flex_consumption_regions() -> None:
    location = doc("main.bicep")["parameters"]["location"]
    allowed = [d["argument"] for d in location["decorators"] if d["type"] == "allowed"]
    assert allowed == [FLEX_REGIONS]
    text = source("main.bicep")
    comment = text[: text.index("param location string")]
    assert "functions-quickstart-python-http-azd" in comment, "the list says where it came from"
    assert "az functionapp list-flexconsumption-locations" in comment


def test_zrs_region_map_is_microsofts_list_within_the_flex_regions() -> None:
    listed = doc("main.bicep")["variables"]["zrsRegions"]["value"]
    assert sorted(listed) == sorted(set(FLEX_REGIONS) & ZRS_REGIONS)
    assert "redundancy-regions-zrs" in source("main.bicep")


def _sku(location: str, redundancy: str) -> str:
    main = doc("main.bicep")
    env = {
        "location": location,
        "storageRedundancy": redundancy,
        "zrsRegions": main["variables"]["zrsRegions"]["value"],
    }
    result = evaluate(main["variables"]["storageSkuName"]["value"], env)
    assert isinstance(result, str)
    return result


@pytest.mark.parametrize("location", FLEX_REGIONS)
def test_storage_is_zone_redundant_where_the_region_offers_it(location: str) -> None:
    expected = "Standard_ZRS" if location in ZRS_REGIONS else "Standard_LRS"
    assert _sku(location, "auto") == expected
    assert _sku(location, "LRS") == "Standard_LRS"
    assert _sku(location, "ZRS") == "Standard_ZRS"


def test_storage_redundancy_parameter_reaches_the_account() -> None:
    main = doc("main.bicep")
    redundancy = main["parameters"]["storageRedundancy"]
    assert redundancy["default"] == "auto"
    assert {"type": "allowed", "argument": ["auto", "LRS", "ZRS"]} in redundancy["decorators"]
    assert main_parameters()["storageRedundancy"]["value"] == "${STORAGE_REDUNDANCY=auto}"
    assert main["modules"]["storage"]["config"]["params"]["skuName"] == "storageSkuName"
    storage = doc("app/storage.bicep")
    account = next(r for r in storage["resources"].values() if r["type"] == "Microsoft.Storage/storageAccounts")
    assert account["config"]["sku"] == {"name": "skuName"}
    allowed = storage["parameters"]["skuName"]["decorators"]
    assert {"type": "allowed", "argument": ["Standard_LRS", "Standard_ZRS"]} in allowed
