// Entry point for `azd up`: creates the resource group and composes the modules in ./app.
// Shape follows Azure-Samples/functions-quickstart-python-http-azd (Flex Consumption, user-assigned
// identity, no keys anywhere); every role assignment lives in app/rbac.bicep.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; used to generate a short unique hash for all resource names.')
param environmentName string

// The regions that offer Flex Consumption, as listed by Microsoft's Flex Consumption azd template
// (Azure-Samples/functions-quickstart-python-http-azd, infra/main.bicep, November 2025) less its canary
// region eastus2euap. Microsoft adds regions over time: `az functionapp list-flexconsumption-locations`
// shows the current list; add a region here when it appears there.
@minLength(1)
@allowed([
  'australiaeast'
  'australiasoutheast'
  'brazilsouth'
  'canadacentral'
  'centralindia'
  'centralus'
  'eastasia'
  'eastus'
  'eastus2'
  'francecentral'
  'germanywestcentral'
  'italynorth'
  'japaneast'
  'koreacentral'
  'northcentralus'
  'northeurope'
  'norwayeast'
  'southafricanorth'
  'southcentralus'
  'southeastasia'
  'southindia'
  'spaincentral'
  'swedencentral'
  'uaenorth'
  'uksouth'
  'ukwest'
  'westcentralus'
  'westeurope'
  'westus'
  'westus2'
  'westus3'
])
@description('Primary location for all resources; one of the regions that offer Flex Consumption.')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Object id of the deploying principal (azd sets AZURE_PRINCIPAL_ID). Used only by the opt-in assignments below (assignAdminRole, grantDeployerDataRoles).')
param principalId string = ''

@description('Give the deploying principal the Admin app role of the app registration, so the console is usable right after `azd up`. Needs createAppRegistration.')
param assignAdminRole bool = false

@description('Give the deploying principal the app\'s data roles (Storage Blob Data Owner, Storage Queue Data Contributor, Key Vault Secrets Officer) to inspect blobs, queues and secrets. Off by default: nobody but the app reads the API keys.')
param grantDeployerDataRoles bool = false

@description('Type of principalId: User for a person running azd, ServicePrincipal for a CI login.')
@allowed([
  'User'
  'ServicePrincipal'
])
param principalType string = 'User'

// Optional name overrides (empty = generated from abbreviations.json and the resource token).
param resourceGroupName string = ''
param apiServiceName string = ''
param apiUserAssignedIdentityName string = ''
param appServicePlanName string = ''
param storageAccountName string = ''
param keyVaultName string = ''
param logAnalyticsName string = ''
param applicationInsightsName string = ''

@minValue(1)
@maxValue(1000)
@description('Flex Consumption scale-out limit. See the comment on scaleAndConcurrency in app/api.bicep for what it bounds.')
param maximumInstanceCount int = 40

// No 512 MB instances: one instance runs up to 8 + 4 queue messages per queue function at once (host.json),
// and a shard worker alone peaks at about 305 MB while it reads snapshot partitions with pyarrow (README,
// Performance). 2048 is the tested size.
@allowed([
  2048
  4096
])
@description('Memory per Flex Consumption instance, in MB: 2048 (tested) or 4096.')
param instanceMemoryMB int = 2048

@allowed([
  'auto'
  'LRS'
  'ZRS'
])
@description('Redundancy of the storage account that holds the only copy of the configuration, runs and incremental state. auto = ZRS where the region offers it (zrsRegions below), LRS elsewhere.')
param storageRedundancy string = 'auto'

@description('NCRONTAB (6 fields) for the refresh timer that checks enabled exports.')
param refreshSchedule string = '0 */5 * * * *'

@description('Blob container where Customer Insights writes segment exports (SNAPSHOT_CONTAINER).')
param snapshotContainerName string = 'customerinsights'

@description('Folder inside the snapshot container under which CI writes (SNAPSHOT_ROOT); empty = the container root.')
param snapshotRoot string = ''

@description('Comma-separated folders of the snapshot container under which Contributors may point an export (its snapshotRoot) (SNAPSHOT_ALLOWED_ROOTS); empty = only snapshotRoot. Admins may name any folder.')
param snapshotAllowedRoots string = ''

@description('Storage account that holds the snapshot container, when it is not the app\'s own account. Grant the app identity Storage Blob Data Reader on it yourself (see infra/README.md).')
param snapshotStorageAccountName string = ''

@description('Object id of a service principal that writes the segment snapshots into the snapshot container (for example the pipeline that copies CI exports in); gets Storage Blob Data Contributor on that container only. Empty = no assignment.')
param snapshotWriterPrincipalId string = ''

@description('Create the Entra app registration, its service principal and its app roles with the Microsoft Graph Bicep extension (app/entra.bicep). false = manual path for tenants that do not allow Graph extension deployments: create the registration yourself (infra/README.md) and set authClientId.')
param createAppRegistration bool = true

@description('Only with createAppRegistration=false: application (client) id of the app registration you created. Empty = every request to the app gets 401 until it is set.')
param authClientId string = ''

@description('Only with createAppRegistration=false: tenant of that app registration; empty = the tenant of this subscription.')
param authTenantId string = ''

@description('Client application ids (besides this app and the Azure CLI) whose tokens Easy Auth accepts, e.g. an automation\'s own app registration.')
param authAllowedClientApps array = []

@description('Path the console is served at on the function app; registered as a redirect URI of the app registration.')
param consolePath string = '/api/console/'

@description('App-role values defined on the app registration (infra/auth/app-roles.json) and checked by the API.')
param authAppRoles array = [
  'Admin'
  'Contributor'
  'Viewer'
]

@description('Paths App Service Authentication lets through without a token. Default: none, so every /api route needs a token.')
param authExcludedPaths array = []

@minValue(7)
@maxValue(90)
@description('Key Vault soft-delete retention. With purge protection the vault name stays reserved for this many days after azd down.')
param keyVaultSoftDeleteRetentionDays int = 90

@description('Email address that receives the alerts; empty = the action group has no receivers.')
param alertEmail string = ''

@minValue(0)
@maxValue(100)
@description('Alert when AC rejects more than this percentage of the contacts sent by an export within an hour.')
param alertMaxRejectionPercent int = 5

@minValue(1)
@maxValue(48)
@description('Alert when an enabled export (seen by the timer) had no Succeeded run for this many hours.')
param alertNoSuccessHours int = 24

@description('Extra app settings (for example AC_RATE_PER_SECOND); the identity-based settings in app/api.bicep always win.')
param appSettings object = {}

var abbrs = loadJsonContent('./abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var functionAppName = !empty(apiServiceName) ? apiServiceName : '${abbrs.webSitesFunctions}api-${resourceToken}'
var deploymentStorageContainerName = 'app-package-${take(functionAppName, 32)}-${take(toLower(uniqueString(functionAppName, resourceToken)), 7)}'
// azd passes an unset environment variable as an empty string; fall back to the defaults above.
var effectiveSchedule = empty(refreshSchedule) ? '0 */5 * * * *' : refreshSchedule
var effectiveSnapshotContainer = empty(snapshotContainerName) ? 'customerinsights' : snapshotContainerName
// The Graph-created registration always lives in this tenant; the manual one wherever authTenantId says.
var effectiveAuthTenantId = (createAppRegistration || empty(authTenantId)) ? tenant().tenantId : authTenantId
// The site does not set autoGeneratedDomainNameLabelScope, so its default host name is <name>.azurewebsites.net
// (the Graph extension is public-cloud only). The app registration needs it before the site exists.
var functionAppHostName = '${functionAppName}.azurewebsites.net'
var effectiveAuthClientId = createAppRegistration ? entra.outputs.appId : authClientId
var effectiveIdentifierUri = createAppRegistration ? entra.outputs.identifierUri : (empty(authClientId) ? '' : 'api://${authClientId}')
// Regions that offer ZRS for standard general-purpose v2 accounts (learn.microsoft.com/azure/storage/common/
// redundancy-regions-zrs, "Standard storage accounts"), limited to the Flex Consumption regions above.
var zrsRegions = [
  'australiaeast'
  'brazilsouth'
  'canadacentral'
  'centralindia'
  'centralus'
  'eastasia'
  'eastus'
  'eastus2'
  'francecentral'
  'germanywestcentral'
  'italynorth'
  'japaneast'
  'koreacentral'
  'northeurope'
  'norwayeast'
  'southafricanorth'
  'southcentralus'
  'southeastasia'
  'spaincentral'
  'swedencentral'
  'uaenorth'
  'uksouth'
  'westeurope'
  'westus2'
  'westus3'
]
var storageSkuName = ((storageRedundancy == 'ZRS') || ((storageRedundancy == 'auto') && contains(zrsRegions, location))) ? 'Standard_ZRS' : 'Standard_LRS'
var snapshotBlobServiceUri = empty(snapshotStorageAccountName) ? '' : 'https://${snapshotStorageAccountName}.blob.${environment().suffixes.storage}/'

resource rg 'Microsoft.Resources/resourceGroups@2021-04-01' = {
  name: !empty(resourceGroupName) ? resourceGroupName : '${abbrs.resourcesResourceGroups}${environmentName}'
  location: location
  tags: tags
}

// The one identity the app uses for storage, deployment package, Key Vault and App Insights.
module apiIdentity 'app/identity.bicep' = {
  name: 'apiIdentity'
  scope: rg
  params: {
    name: !empty(apiUserAssignedIdentityName) ? apiUserAssignedIdentityName : '${abbrs.managedIdentityUserAssignedIdentities}api-${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: !empty(storageAccountName) ? storageAccountName : '${abbrs.storageStorageAccounts}${resourceToken}'
    location: location
    tags: tags
    skuName: storageSkuName
    extraContainerNames: empty(snapshotStorageAccountName) ? [
      effectiveSnapshotContainer
      deploymentStorageContainerName
    ] : [
      deploymentStorageContainerName
    ]
  }
}

module keyVault 'app/keyvault.bicep' = {
  name: 'keyVault'
  scope: rg
  params: {
    name: !empty(keyVaultName) ? keyVaultName : '${abbrs.keyVaultVaults}${resourceToken}'
    location: location
    tags: tags
    softDeleteRetentionInDays: keyVaultSoftDeleteRetentionDays
  }
}

module telemetry 'app/telemetry.bicep' = {
  name: 'telemetry'
  scope: rg
  params: {
    logAnalyticsName: !empty(logAnalyticsName) ? logAnalyticsName : '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    applicationInsightsName: !empty(applicationInsightsName) ? applicationInsightsName : '${abbrs.insightsComponents}${resourceToken}'
    location: location
    tags: tags
  }
}

// The app registration, its service principal, the app roles and Easy Auth's managed-identity credential.
// Skipped on the manual path (createAppRegistration=false).
module entra 'app/entra.bicep' = if (createAppRegistration) {
  name: 'entra'
  scope: rg
  params: {
    uniqueName: 'ac-segment-export-${resourceToken}'
    displayName: 'ac-segment-export (${environmentName})'
    hostName: functionAppHostName
    consolePath: consolePath
    identityPrincipalId: apiIdentity.outputs.principalId
    adminPrincipalId: assignAdminRole ? principalId : ''
  }
}

module api 'app/api.bicep' = {
  name: 'api'
  scope: rg
  // The site starts its host as soon as it exists, and the host reaches storage with the identity: its
  // role assignments must exist first.
  dependsOn: [
    rbac
  ]
  params: {
    name: functionAppName
    location: location
    tags: tags
    appServicePlanName: !empty(appServicePlanName) ? appServicePlanName : '${abbrs.webServerFarms}${resourceToken}'
    storageAccountName: storage.outputs.name
    deploymentStorageContainerName: deploymentStorageContainerName
    identityId: apiIdentity.outputs.id
    identityClientId: apiIdentity.outputs.clientId
    applicationInsightsName: telemetry.outputs.applicationInsightsName
    keyVaultName: keyVault.outputs.name
    snapshotBlobServiceUri: snapshotBlobServiceUri
    snapshotContainerName: effectiveSnapshotContainer
    snapshotRoot: snapshotRoot
    snapshotAllowedRoots: snapshotAllowedRoots
    refreshSchedule: effectiveSchedule
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    authClientId: effectiveAuthClientId
    authTenantId: effectiveAuthTenantId
    authIdentifierUri: effectiveIdentifierUri
    authAllowedClientApps: authAllowedClientApps
    authExcludedPaths: authExcludedPaths
    appSettings: appSettings
  }
}

module rbac 'app/rbac.bicep' = {
  name: 'rbacAssignments'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    keyVaultName: keyVault.outputs.name
    applicationInsightsName: telemetry.outputs.applicationInsightsName
    managedIdentityPrincipalId: apiIdentity.outputs.principalId
    userPrincipalId: grantDeployerDataRoles ? principalId : ''
    userPrincipalType: principalType
    snapshotWriterPrincipalId: empty(snapshotStorageAccountName) ? snapshotWriterPrincipalId : ''
    snapshotContainerName: effectiveSnapshotContainer
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    location: location
    tags: tags
    applicationInsightsName: telemetry.outputs.applicationInsightsName
    actionGroupName: '${abbrs.insightsActionGroups}${resourceToken}'
    alertNamePrefix: '${abbrs.insightsScheduledQueryRules}${resourceToken}-'
    alertEmail: alertEmail
    maxRejectionPercent: alertMaxRejectionPercent
    noSuccessHours: alertNoSuccessHours
  }
}

// Outputs (azd writes them into .azure/<env>/.env)
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_NAME string = api.outputs.SERVICE_API_NAME
output SERVICE_API_NAME string = api.outputs.SERVICE_API_NAME
output SERVICE_API_URI string = api.outputs.SERVICE_API_URI
output AZURE_MANAGED_IDENTITY_CLIENT_ID string = apiIdentity.outputs.clientId
output AZURE_MANAGED_IDENTITY_PRINCIPAL_ID string = apiIdentity.outputs.principalId
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_KEY_VAULT_ENDPOINT string = keyVault.outputs.uri
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_STORAGE_BLOB_ENDPOINT string = storage.outputs.blobEndpoint
output AZURE_STORAGE_QUEUE_ENDPOINT string = storage.outputs.queueEndpoint
output SNAPSHOT_CONTAINER string = effectiveSnapshotContainer
output APPLICATIONINSIGHTS_NAME string = telemetry.outputs.applicationInsightsName
output APPLICATIONINSIGHTS_CONNECTION_STRING string = telemetry.outputs.connectionString
output AZURE_MONITOR_WORKBOOK_ID string = monitoring.outputs.workbookId
output AUTH_ENABLED bool = !empty(effectiveAuthClientId)
output AUTH_APP_ID string = effectiveAuthClientId
output AUTH_IDENTIFIER_URI string = effectiveIdentifierUri
output AUTH_SCOPE string = empty(effectiveIdentifierUri) ? '' : '${effectiveIdentifierUri}/user_impersonation'
output AUTH_APP_ROLES array = authAppRoles
// Easy Auth's sign-in, which lands on the console once the browser has a session.
output SERVICE_CONSOLE_URI string = 'https://${functionAppHostName}/.auth/login/aad?post_login_redirect_uri=${consolePath}'
output AZURE_STORAGE_SKU string = storageSkuName
