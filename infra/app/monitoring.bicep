// Alerts and the runs workbook on top of Application Insights. The telemetry contract (event names,
// dimensions, metric names) is shared/events.py; the KQL lives once, in ./kql, and is used by both the
// alert rules and the workbook (and quoted in infra/README.md). tests/infra checks the names. One query,
// poison-of-poison.kql, reads a warning of the Functions host rather than an event of ours: when a poison
// handler itself fails, no code of ours runs to log it.
param location string = resourceGroup().location
param tags object = {}
param applicationInsightsName string
param actionGroupName string
param alertNamePrefix string
param workbookDisplayName string = 'ActiveCampaign segment export: runs'

@description('Receiver of the alert emails; empty = the action group has no receivers.')
param alertEmail string = ''

@minValue(0)
@maxValue(100)
param maxRejectionPercent int = 5

@minValue(1)
@maxValue(48)
param noSuccessHours int = 24

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

var kql = {
  failedRuns: loadTextContent('kql/failed-runs.kql')
  rejectionRate: loadTextContent('kql/rejection-rate.kql')
  poisonedMessages: loadTextContent('kql/poisoned-messages.kql')
  poisonOfPoison: loadTextContent('kql/poison-of-poison.kql')
  noSuccessfulRun: loadTextContent('kql/no-successful-run.kql')
  runsByStatus: loadTextContent('kql/runs-by-status.kql')
  profiles: loadTextContent('kql/profiles.kql')
  rateLimited: loadTextContent('kql/rate-limited.kql')
  acResponses: loadTextContent('kql/ac-responses.kql')
  runDuration: loadTextContent('kql/run-duration.kql')
  laneWait: loadTextContent('kql/lane-wait.kql')
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: actionGroupName
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'acexport'
    enabled: true
    emailReceivers: empty(alertEmail) ? [] : [
      {
        name: 'operators'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

// One alert per export (dimension export_name) when a run ends Failed.
resource failedRunAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: '${alertNamePrefix}failed-run'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'AC export: a run failed'
    description: 'A run ended with status Failed (event run.finished). Open the run with GET /api/exports/{export}/runs/{runId} for the reason.'
    severity: 1
    enabled: true
    // Created with a new, empty workspace, where validating a query over tables that hold no data yet fails.
    skipQueryValidation: true
    scopes: [
      applicationInsights.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      allOf: [
        {
          query: kql.failedRuns
          timeAggregation: 'Count'
          dimensions: [
            {
              name: 'export_name'
              operator: 'Include'
              values: [
                '*'
              ]
            }
          ]
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}

// rejected / sent over the last hour, per export, above maxRejectionPercent.
resource rejectionRateAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: '${alertNamePrefix}rejection-rate'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'AC export: ActiveCampaign rejects too many contacts'
    description: 'More than ${maxRejectionPercent}% of the contacts an export sent in the last hour were rejected by ActiveCampaign (run.finished rejected / sent). The run report lists each rejected row with AC\'s reason.'
    severity: 2
    enabled: true
    // Created with a new, empty workspace, where validating a query over tables that hold no data yet fails.
    skipQueryValidation: true
    scopes: [
      applicationInsights.id
    ]
    evaluationFrequency: 'PT15M'
    windowSize: 'PT1H'
    criteria: {
      allOf: [
        {
          query: kql.rejectionRate
          timeAggregation: 'Maximum'
          metricMeasureColumn: 'rejection_percent'
          dimensions: [
            {
              name: 'export_name'
              operator: 'Include'
              values: [
                '*'
              ]
            }
          ]
          operator: 'GreaterThan'
          threshold: maxRejectionPercent
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}

// A message exhausted host.json maxDequeueCount and was moved to a -poison queue.
resource poisonedMessageAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: '${alertNamePrefix}poisoned-message'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'AC export: a queue message was poisoned'
    description: 'A queue message failed too often and was moved to a -poison queue (event message.poisoned). See infra/README.md for how to inspect and drain the poison queues.'
    severity: 2
    enabled: true
    // Created with a new, empty workspace, where validating a query over tables that hold no data yet fails.
    skipQueryValidation: true
    scopes: [
      applicationInsights.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      allOf: [
        {
          query: kql.poisonedMessages
          timeAggregation: 'Count'
          dimensions: [
            {
              name: 'queue_name'
              operator: 'Include'
              values: [
                '*'
              ]
            }
          ]
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}

// A message failed in its poison handler too and was moved to a <queue>-poison-poison queue, which nothing
// reads: the run it belongs to may never end. Severity 1, like a failed run.
resource poisonOfPoisonAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: '${alertNamePrefix}poison-of-poison'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'AC export: a poison handler failed (message in a -poison-poison queue)'
    description: 'A message failed maxDequeueCount times in its -poison queue handler and the Functions host moved it to <queue>-poison-poison. See "Poison queues" in infra/README.md.'
    severity: 1
    enabled: true
    // Created with a new, empty workspace, where validating a query over tables that hold no data yet fails.
    skipQueryValidation: true
    scopes: [
      applicationInsights.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      allOf: [
        {
          query: kql.poisonOfPoison
          timeAggregation: 'Count'
          dimensions: [
            {
              name: 'queue_name'
              operator: 'Include'
              values: [
                '*'
              ]
            }
          ]
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}

// Enabled exports the timer checked in the last noSuccessHours with no Succeeded run in that time.
// The look-back goes in overrideQueryTimeRange so that windowSize stays one of the standard granularities.
resource noSuccessfulRunAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: '${alertNamePrefix}no-successful-run'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'AC export: no successful run in ${noSuccessHours}h'
    description: 'An enabled export (event export.checked) had no run.finished with status Succeeded in the last ${noSuccessHours} hours.'
    severity: 2
    enabled: true
    // Created with a new, empty workspace, where validating a query over tables that hold no data yet fails.
    skipQueryValidation: true
    scopes: [
      applicationInsights.id
    ]
    evaluationFrequency: 'PT1H'
    windowSize: 'PT1H'
    overrideQueryTimeRange: 'PT${noSuccessHours}H'
    criteria: {
      allOf: [
        {
          query: kql.noSuccessfulRun
          timeAggregation: 'Count'
          dimensions: [
            {
              name: 'export_name'
              operator: 'Include'
              values: [
                '*'
              ]
            }
          ]
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}

// --- Workbook: one panel per query, all bound to the TimeRange parameter ---

var workbookPanels = [
  {
    name: 'runs-by-status'
    title: 'Runs by status'
    query: kql.runsByStatus
    visualization: 'timechart'
  }
  {
    name: 'profiles'
    title: 'Profiles sent, confirmed, rejected and invalid'
    query: kql.profiles
    visualization: 'timechart'
  }
  {
    name: 'rate-limited'
    title: 'Rate-limited requests (run.finished rate_limited)'
    query: kql.rateLimited
    visualization: 'timechart'
  }
  {
    name: 'ac-responses'
    title: 'ActiveCampaign non-2xx responses by status code (429 = throttled)'
    query: kql.acResponses
    visualization: 'timechart'
  }
  {
    name: 'lane-wait'
    title: 'Lane wait per account (seconds)'
    query: kql.laneWait
    visualization: 'timechart'
  }
  {
    name: 'run-duration'
    title: 'Duration per run'
    query: kql.runDuration
    visualization: 'table'
  }
  {
    name: 'rejection-rate'
    title: 'Rejection rate per export (%)'
    query: kql.rejectionRate
    visualization: 'table'
  }
  {
    name: 'failed-runs'
    title: 'Failed runs'
    query: kql.failedRuns
    visualization: 'table'
  }
  {
    name: 'poisoned-messages'
    title: 'Poisoned queue messages'
    query: kql.poisonedMessages
    visualization: 'table'
  }
  {
    name: 'poison-of-poison'
    title: 'Messages moved to -poison-poison queues (a poison handler failed)'
    query: kql.poisonOfPoison
    visualization: 'table'
  }
  {
    name: 'no-successful-run'
    title: 'Enabled exports without a successful run in the time range'
    query: kql.noSuccessfulRun
    visualization: 'table'
  }
]

var workbookQueryItems = [for panel in workbookPanels: {
  type: 3
  name: panel.name
  content: {
    version: 'KqlItem/1.0'
    title: panel.title
    query: panel.query
    size: 0
    queryType: 0
    resourceType: 'microsoft.insights/components'
    timeContextFromParameter: 'TimeRange'
    visualization: panel.visualization
  }
}]

var workbookHeaderItems = [
  {
    type: 1
    name: 'title'
    content: {
      json: '## ActiveCampaign segment export\nRuns, profiles, throttling and lane waits, from the events and metrics in shared/events.py.'
    }
  }
  {
    type: 9
    name: 'parameters'
    content: {
      version: 'KqlParameterItem/1.0'
      style: 'pills'
      queryType: 0
      resourceType: 'microsoft.insights/components'
      parameters: [
        {
          id: '3f0e6c55-2a59-4a8e-9a3c-6a3b8f1d2c01'
          version: 'KqlParameterItem/1.0'
          name: 'TimeRange'
          label: 'Time range'
          type: 4
          isRequired: true
          value: {
            durationMs: 86400000
          }
          typeSettings: {
            selectableValues: [
              {
                durationMs: 3600000
              }
              {
                durationMs: 14400000
              }
              {
                durationMs: 43200000
              }
              {
                durationMs: 86400000
              }
              {
                durationMs: 259200000
              }
              {
                durationMs: 604800000
              }
            ]
            allowCustom: true
          }
        }
      ]
    }
  }
]

var workbookContent = {
  version: 'Notebook/1.0'
  items: concat(workbookHeaderItems, workbookQueryItems)
  fallbackResourceIds: [
    applicationInsights.id
  ]
  '$schema': 'https://github.com/Microsoft/Application-Insights-Workbooks/blob/master/schema/workbook.json'
}

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(resourceGroup().id, applicationInsightsName, 'ac-export-runs-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: workbookDisplayName
    category: 'workbook'
    version: 'Notebook/1.0'
    sourceId: applicationInsights.id
    serializedData: string(workbookContent)
  }
}

output actionGroupId string = actionGroup.id
output workbookId string = workbook.id
output alertRuleNames array = [
  failedRunAlert.name
  rejectionRateAlert.name
  poisonedMessageAlert.name
  poisonOfPoisonAlert.name
  noSuccessfulRunAlert.name
]
