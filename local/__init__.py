"""What stands in for Azure and ActiveCampaign on a developer machine (not deployed).

- `local.host`: the stand-in Functions host that runs function_app's real entry points;
- `local.azurite`: starts and stops Azurite;
- `local.activecampaign_emulator`: a faithful local ActiveCampaign;
- `local.sample_data`: writes CI-format segment snapshots;
- `local.up` and `local.demo`: `make up` and `make demo`.
"""
