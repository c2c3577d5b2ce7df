// The app's storage account: host storage (AzureWebJobsStorage), the deployment package, our documents
// (config/runs/state), the Customer Insights snapshot container and the queues. Keys are disabled: every
// client (the app, azd, CI, operators) uses Entra ID and the data roles in rbac.bicep.
param name string
param location string = resourceGroup().location
param tags object = {}

@description('Containers besides the app\'s own: the snapshot container (when it lives here) and the deployment package container.')
param extraContainerNames array = []

@allowed([
  'Standard_LRS'
  'Standard_ZRS'
])
@description('Standard_ZRS keeps three copies in three availability zones; main.bicep picks it where the region offers it (storageRedundancy). ARM does not convert an existing account by a SKU change: see infra/README.md for an LRS account deployed earlier.')
param skuName string = 'Standard_LRS'

@minValue(1)
@maxValue(365)
@description('Days a deleted blob or container can be restored.')
param deleteRetentionDays int = 7

// Must equal shared/names.py ALL_CONTAINERS and ALL_QUEUES (tests/infra checks it).
var appContainerNames = [
  'config'
  'runs'
  'state'
]
var queueNames = [
  'export-runs'
  'export-plan'
  'export-shards'
  'export-finalize'
  'export-runs-poison'
  'export-plan-poison'
  'export-shards-poison'
  'export-finalize-poison'
]
var containerNames = union(appContainerNames, extraContainerNames)

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowCrossTenantReplication: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    dnsEndpointType: 'Standard'
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource blobServices 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: deleteRetentionDays
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: deleteRetentionDays
    }
  }
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [for containerName in containerNames: {
  parent: blobServices
  name: containerName
  properties: {
    publicAccess: 'None'
  }
}]

resource queueServices 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [for queueName in queueNames: {
  parent: queueServices
  name: queueName
}]

output name string = storage.name
output skuName string = storage.sku.name
output id string = storage.id
output blobEndpoint string = storage.properties.primaryEndpoints.blob
output queueEndpoint string = storage.properties.primaryEndpoints.queue
output containerNames array = containerNames
output queueNames array = queueNames
