// Every role assignment of the deployment, in one place. Each is named guid(scope.id, principalId, roleId)
// so that re-running `azd up` is idempotent, and sets principalType so that ARM does not have to look the
// principal up (which fails right after a new identity is created).
param storageAccountName string
param keyVaultName string
param applicationInsightsName string

@description('Principal (object) id of the function app\'s user-assigned identity.')
param managedIdentityPrincipalId string

@description('Deploying user or CI principal (AZURE_PRINCIPAL_ID) when grantDeployerDataRoles is on; empty (the default) = no assignments for it.')
param userPrincipalId string = ''

@allowed([
  'User'
  'ServicePrincipal'
])
param userPrincipalType string = 'User'

@description('Service principal that writes segment snapshots into the snapshot container; empty = no assignment.')
param snapshotWriterPrincipalId string = ''
param snapshotContainerName string

// Built-in role definition ids
var storageBlobDataOwnerRoleId = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' // Storage Blob Data Owner
var storageBlobDataContributorRoleId = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe' // Storage Blob Data Contributor
var storageQueueDataContributorRoleId = '974c5e8b-45b9-4653-ba55-5f855dd0fb88' // Storage Queue Data Contributor
var keyVaultSecretsOfficerRoleId = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7' // Key Vault Secrets Officer
var monitoringMetricsPublisherRoleId = '3913510d-42f4-4e42-8a64-420c390055eb' // Monitoring Metrics Publisher

var hasUser = !empty(userPrincipalId)
var hasSnapshotWriter = !empty(snapshotWriterPrincipalId)

resource storageAccount 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' existing = {
  parent: storageAccount
  name: 'default'
}

resource snapshotContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: blobService
  name: snapshotContainerName
}

resource keyVault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// --- The app's managed identity ---

// Host storage (timer locks, deployment package) and our documents: config, runs, state, snapshots.
resource appBlobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storageAccount.id, managedIdentityPrincipalId, storageBlobDataOwnerRoleId)
  scope: storageAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwnerRoleId)
    principalId: managedIdentityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Queue triggers, the run/shard/finalize outputs and the poison queues.
resource appQueueContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storageAccount.id, managedIdentityPrincipalId, storageQueueDataContributorRoleId)
  scope: storageAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageQueueDataContributorRoleId)
    principalId: managedIdentityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Officer, not User: PUT /connections/{name} writes the verified API key into the vault.
resource appSecretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(keyVault.id, managedIdentityPrincipalId, keyVaultSecretsOfficerRoleId)
  scope: keyVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsOfficerRoleId)
    principalId: managedIdentityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Entra-authenticated telemetry ingestion (App Insights has local auth disabled).
resource appMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, managedIdentityPrincipalId, monitoringMetricsPublisherRoleId)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisherRoleId)
    principalId: managedIdentityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// --- The deploying principal (opt-in, GRANT_DEPLOYER_DATA_ROLES): the same data roles, to inspect blobs,
// queues and secrets. Off by default, so that only the app can read the ActiveCampaign API keys. ---

resource userBlobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (hasUser) {
  name: guid(storageAccount.id, userPrincipalId, storageBlobDataOwnerRoleId)
  scope: storageAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwnerRoleId)
    principalId: userPrincipalId
    principalType: userPrincipalType
  }
}

resource userQueueContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (hasUser) {
  name: guid(storageAccount.id, userPrincipalId, storageQueueDataContributorRoleId)
  scope: storageAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageQueueDataContributorRoleId)
    principalId: userPrincipalId
    principalType: userPrincipalType
  }
}

resource userSecretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (hasUser) {
  name: guid(keyVault.id, userPrincipalId, keyVaultSecretsOfficerRoleId)
  scope: keyVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsOfficerRoleId)
    principalId: userPrincipalId
    principalType: userPrincipalType
  }
}

// --- Snapshot writer (optional): write access to the snapshot container only ---

resource snapshotWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (hasSnapshotWriter) {
  name: guid(snapshotContainer.id, snapshotWriterPrincipalId, storageBlobDataContributorRoleId)
  scope: snapshotContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributorRoleId)
    principalId: snapshotWriterPrincipalId
    principalType: 'ServicePrincipal'
  }
}
