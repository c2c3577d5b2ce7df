"""The domain package: connections, exports, runs, the pipeline and the ActiveCampaign client.

Nothing below this package imports azure.functions; triggers live in functions/.
"""
