// The Entra ID app registration that protects the API and signs people in to the console, with its
// service principal, created by the Microsoft Graph Bicep extension (alias in ../bicepconfig.json).
// Shapes follow Microsoft's Graph Bicep type catalogue (microsoftgraph/msgraph-bicep-types,
// generated/microsoftgraph/microsoft.graph/v1.0/1.0.0/types.md) and its quickstart templates
// (application-serviceprincipal-create-client-resource, msi-as-a-fic-secretless).
// Graph objects live in the tenant, not in the resource group: `azd down` leaves them (infra/README.md).
extension microsoftGraphV1

@description('Immutable alternate key of the app registration; the same value finds and updates the same app on every `azd up`.')
param uniqueName string

@description('Display name shown in Entra ID (App registrations, Enterprise applications).')
param displayName string

@description('Host name of the function app (<name>.azurewebsites.net): Easy Auth\'s callback and the console live there.')
param hostName string

@description('Path the console is served at on that host; registered as a redirect URI next to Easy Auth\'s callback.')
param consolePath string = '/api/console/'

@description('Principal (object) id of the function app\'s user-assigned identity: Easy Auth signs in with it instead of a client secret.')
param identityPrincipalId string

@description('Object id to assign the Admin app role to (the deploying user when ASSIGN_ADMIN_ROLE=true); empty = no assignment.')
param adminPrincipalId string = ''

// The app roles the API checks, with their fixed ids. The same file feeds the manual path
// (`az ad app create --app-roles @infra/auth/app-roles.json`), so both paths define identical roles.
// Its entries already have the MicrosoftGraphAppRole shape: allowedMemberTypes, description, displayName,
// id, isEnabled, value. Index 0 is Admin (tests/infra checks it).
var appRoles = loadJsonContent('../auth/app-roles.json')
var adminAppRoleId = appRoles[0].id

// Well-known client id of the Azure CLI: pre-authorised, so `az account get-access-token` works without a
// consent prompt.
var azureCliAppId = '04b07795-8ddb-461a-bbee-02f9e1bf7b46'

// guid() of the unique name: the same scope id on every deployment of this app, a different one per app.
var userImpersonationScopeId = guid(uniqueName, 'user_impersonation')

// api://<tenantId>/<string> is one of the identifier URI formats Entra accepts under its default app
// management policy (learn.microsoft.com/entra/identity-platform/identifier-uri-restrictions). The
// api://<appId> form cannot be used here: a resource cannot read its own appId while it is being created.
var identifierUri = 'api://${tenant().tenantId}/${uniqueName}'

// Easy Auth's sign-in callback, then the console's own URL.
var redirectUris = [
  'https://${hostName}/.auth/login/aad/callback'
  'https://${hostName}${consolePath}'
]

resource app 'Microsoft.Graph/applications@v1.0' = {
  uniqueName: uniqueName
  displayName: displayName
  signInAudience: 'AzureADMyOrg'
  identifierUris: [
    identifierUri
  ]
  appRoles: appRoles
  api: {
    requestedAccessTokenVersion: 2
    oauth2PermissionScopes: [
      {
        id: userImpersonationScopeId
        value: 'user_impersonation'
        type: 'User'
        isEnabled: true
        adminConsentDisplayName: 'Use the segment export API'
        adminConsentDescription: 'Call the segment export API as the signed-in user.'
        userConsentDisplayName: 'Use the segment export API'
        userConsentDescription: 'Call the segment export API as you.'
      }
    ]
    // Scope and pre-authorisation in one resource, as Microsoft's Functions MCP authorization sample
    // (mattchenderson/FunctionsMcpAuthorization, infra/app/entra.bicep) does.
    preAuthorizedApplications: [
      {
        appId: azureCliAppId
        delegatedPermissionIds: [
          userImpersonationScopeId
        ]
      }
    ]
  }
  web: {
    redirectUris: redirectUris
    // Easy Auth signs in with the hybrid flow (code id_token), which needs ID token issuance; access
    // tokens never come from the implicit flow.
    implicitGrantSettings: {
      enableIdTokenIssuance: true
      enableAccessTokenIssuance: false
    }
  }
  // The person or CI principal running azd owns the registration, so a later `azd up` can update it.
  owners: {
    relationships: [
      deployer().objectId
    ]
  }
}

// Instead of a client secret: the app trusts tokens of the function app's managed identity
// (App Service docs: "Use a managed identity instead of a secret"; api.bicep sets
// OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID). Issuer, subject and audience as in Microsoft's
// msi-as-a-fic-secretless quickstart.
resource easyAuthCredential 'Microsoft.Graph/applications/federatedIdentityCredentials@v1.0' = {
  name: '${app.uniqueName}/easy-auth-managed-identity'
  description: 'App Service Authentication of the function app signs in with its user-assigned identity.'
  audiences: [
    'api://AzureADTokenExchange'
  ]
  issuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
  subject: identityPrincipalId
}

// Only users (and service principals) assigned one of the app roles get a token for the API. The deploying
// principal owns the enterprise application too, which lets it assign people to roles in the portal.
resource servicePrincipal 'Microsoft.Graph/servicePrincipals@v1.0' = {
  appId: app.appId
  appRoleAssignmentRequired: true
  owners: {
    relationships: [
      deployer().objectId
    ]
  }
}

// Opt-in (ASSIGN_ADMIN_ROLE): the deploying user becomes Admin, so the console is usable right after `azd up`.
resource adminAssignment 'Microsoft.Graph/appRoleAssignedTo@v1.0' = if (!empty(adminPrincipalId)) {
  appRoleId: adminAppRoleId
  principalId: adminPrincipalId
  resourceId: servicePrincipal.id
}

output appId string = app.appId
output identifierUri string = identifierUri
output scope string = '${identifierUri}/user_impersonation'
output servicePrincipalId string = servicePrincipal.id
