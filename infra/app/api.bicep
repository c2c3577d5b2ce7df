// The function app: Flex Consumption (FC1) plan, Python 3.11, one user-assigned identity for everything,
// identity-based app settings only (no keys, no connection strings with secrets), App Service
// Authentication (Entra ID) in front of every HTTP route.
param name string
param location string = resourceGroup().location
param tags object = {}
param serviceName string = 'api'
param appServicePlanName string
param storageAccountName string
param deploymentStorageContainerName string
param identityId string
param identityClientId string
param applicationInsightsName string
param keyVaultName string

@description('Blob endpoint of the account holding the snapshot container; empty = this app\'s storage account.')
param snapshotBlobServiceUri string = ''
param snapshotContainerName string
param snapshotRoot string = ''
@description('Folders Contributors may name as an export\'s snapshotRoot (comma-separated); empty = only snapshotRoot.')
param snapshotAllowedRoots string = ''
param refreshSchedule string

@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

// No 512 MB: see instanceMemoryMB in main.bicep.
@allowed([
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Client id of the Entra app registration; empty = authentication stays on with no provider, so every request gets 401.')
param authClientId string = ''
param authTenantId string = tenant().tenantId

@description('Application ID URI of the registration (a token audience besides the client id); empty = none.')
param authIdentifierUri string = ''

@description('Client applications whose tokens Easy Auth accepts besides this app registration and the Azure CLI.')
param authAllowedClientApps array = []
param authExcludedPaths array = []

@description('Extra app settings; the settings below win on a name clash.')
param appSettings object = {}

var authConfigured = !empty(authClientId)

// Well-known client id of the Azure CLI (pre-authorised on the registration in entra.bicep).
var azureCliAppId = '04b07795-8ddb-461a-bbee-02f9e1bf7b46'

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource keyVault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource plan 'Microsoft.Web/serverfarms@2023-12-01' = {
  name: appServicePlanName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource api 'Microsoft.Web/sites@2023-12-01' = {
  name: name
  location: location
  tags: union(tags, {
    'azd-service-name': serviceName
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentStorageContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      // Scale bound: each instance runs at most batchSize + newBatchThreshold queue messages at once per
      // queue function (host.json extensions.queues: 8 + 4), so maximumInstanceCount x that bounds how many
      // shard workers run at the same time. It does NOT multiply ActiveCampaign traffic: the per-account
      // rate budget (5 req/s, 100 bulk/min) is enforced by a lane lease (a blob lease in the state
      // container), so only the shard holding an account's lane sends to that account; other shards for
      // the same account are re-queued with a delay. Raise this for more parallel planning/shards across
      // accounts, lower it to cap cost.
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'python'
        version: '3.11'
      }
    }
  }
}

// Every setting in shared.config.DEPLOYMENT_SETTINGS is set here (tests/infra checks it). Storage and
// Key Vault are reached with the user-assigned identity; nothing here carries a key.
resource appSettingsConfig 'Microsoft.Web/sites/config@2023-12-01' = {
  parent: api
  name: 'appsettings'
  properties: union(appSettings, {
    AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob
    AzureWebJobsStorage__queueServiceUri: storage.properties.primaryEndpoints.queue
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identityClientId
    SNAPSHOT_STORAGE__blobServiceUri: empty(snapshotBlobServiceUri) ? storage.properties.primaryEndpoints.blob : snapshotBlobServiceUri
    SNAPSHOT_STORAGE__credential: 'managedidentity'
    SNAPSHOT_STORAGE__clientId: identityClientId
    SNAPSHOT_CONTAINER: snapshotContainerName
    SNAPSHOT_ROOT: snapshotRoot
    SNAPSHOT_ALLOWED_ROOTS: snapshotAllowedRoots
    KEY_VAULT_URL: keyVault.properties.vaultUri
    AZURE_CLIENT_ID: identityClientId
    REFRESH_SCHEDULE: refreshSchedule
    APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
    // host.json sets "telemetryMode": "OpenTelemetry". With this setting the Python worker tells the host that
    // it exports its own telemetry, so the host drops the log records the worker forwards to it (its
    // "Function.*" categories) and each record reaches Application Insights once, from the exporter that
    // shared/telemetry.py configures. PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY is deliberately not set: it
    // would make the worker configure a second Azure Monitor exporter in the same process.
    // Source: Functions docs, opentelemetry-howto ("PYTHON_ENABLE_OPENTELEMETRY ... prevents duplicate
    // host-level entries").
    PYTHON_ENABLE_OPENTELEMETRY: 'true'
    // Named by the Entra provider below where a client secret would go, and read by Easy Auth instead of one:
    // the client id of the managed identity that the app registration trusts (federated identity credential
    // in entra.bicep). Not a secret. Source: App Service docs, configure-authentication-provider-aad, "Use a
    // managed identity instead of a secret".
    OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID: identityClientId
  })
}

// App Service Authentication (Easy Auth v2) with Entra ID. Requests without a valid token or session for
// the app registration get 401 from the platform before they reach Python; a browser signs in at
// /.auth/login/aad (the console's sign-in, SERVICE_CONSOLE_URI) and then carries Easy Auth's session cookie.
// The API checks the role claims (Admin, Contributor, Viewer) in X-MS-CLIENT-PRINCIPAL and answers 403 for
// the wrong role. Timer and queue triggers do not go through this front end, and the Functions admin
// endpoints used by the platform are not blocked by it, so nothing under /api has to stay public
// (authExcludedPaths = []).
resource authSettings 'Microsoft.Web/sites/config@2023-12-01' = {
  parent: api
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
      runtimeVersion: '~1'
    }
    globalValidation: {
      requireAuthentication: true
      // A browser opening the console without a session is sent to the Entra sign-in page; the console's own API
      // calls send X-Requested-With: XMLHttpRequest, which Easy Auth answers with 401 instead of a redirect, and
      // so does any client that sends no browser cookies (it gets a 302 it will not follow, or uses a token).
      unauthenticatedClientAction: 'RedirectToLoginPage'
      redirectToProvider: 'azureactivedirectory'
      excludedPaths: authExcludedPaths
    }
    httpSettings: {
      requireHttps: true
      forwardProxy: {
        convention: 'NoProxy'
      }
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: authConfigured
        registration: {
          clientId: authClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${authTenantId}/v2.0'
          // Browser sign-in (the console) redeems the code with a client assertion from the managed identity,
          // not with a secret.
          clientSecretSettingName: 'OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID'
        }
        validation: {
          allowedAudiences: authConfigured ? union([
            authClientId
          ], empty(authIdentifierUri) ? [] : [
            authIdentifierUri
          ]) : []
          // Only tokens obtained by this app registration (the console's sign-in), the Azure CLI and the
          // client apps named in authAllowedClientApps; others get 403 (appid/azp claim).
          defaultAuthorizationPolicy: {
            allowedApplications: authConfigured ? union([
              authClientId
              azureCliAppId
            ], authAllowedClientApps) : []
          }
        }
        login: {
          disableWWWAuthenticate: false
        }
      }
    }
    login: {
      tokenStore: {
        enabled: false
      }
    }
  }
}

// azd and the Functions tools deploy with Entra ID; no basic-auth publishing credentials.
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2023-12-01' = {
  parent: api
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2023-12-01' = {
  parent: api
  name: 'scm'
  properties: {
    allow: false
  }
}

output SERVICE_API_NAME string = api.name
output SERVICE_API_URI string = 'https://${api.properties.defaultHostName}'
output planName string = plan.name
