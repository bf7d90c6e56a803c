package voicesim

import "encoding/json"

// The simulator's own rendering of Vapi's JSON. It deliberately shares no
// types with internal/vapi, so the adapter's tests against the simulator
// check two independent readings of Vapi's documentation.

type callObject struct {
	ID                 string          `json:"id"`
	OrgID              string          `json:"orgId"`
	Type               string          `json:"type"`
	Status             string          `json:"status"`
	CreatedAt          string          `json:"createdAt"`
	UpdatedAt          string          `json:"updatedAt"`
	StartedAt          string          `json:"startedAt,omitempty"`
	EndedAt            string          `json:"endedAt,omitempty"`
	EndedReason        string          `json:"endedReason,omitempty"`
	Cost               *float64        `json:"cost,omitempty"`
	PhoneNumberID      string          `json:"phoneNumberId"`
	AssistantID        string          `json:"assistantId,omitempty"`
	Customer           customerObject  `json:"customer"`
	AssistantOverrides json.RawMessage `json:"assistantOverrides,omitempty"`
	Artifact           *artifactObject `json:"artifact,omitempty"`
	Analysis           *analysisObject `json:"analysis,omitempty"`
}

type customerObject struct {
	Number string `json:"number"`
	Name   string `json:"name,omitempty"`
}

type phoneObject struct {
	ID     string `json:"id"`
	Number string `json:"number"`
}

type assistantObject struct {
	Metadata map[string]string `json:"metadata,omitempty"`
}

type artifactObject struct {
	Messages     []messageObject `json:"messages"`
	Transcript   string          `json:"transcript"`
	RecordingURL string          `json:"recordingUrl,omitempty"`
}

type messageObject struct {
	Role             string  `json:"role"`
	Message          string  `json:"message"`
	Time             int64   `json:"time"`
	EndTime          int64   `json:"endTime,omitempty"`
	SecondsFromStart float64 `json:"secondsFromStart"`
	Duration         int64   `json:"duration,omitempty"`
}

type analysisObject struct {
	Summary           string         `json:"summary"`
	StructuredData    map[string]any `json:"structuredData,omitempty"`
	SuccessEvaluation string         `json:"successEvaluation,omitempty"`
}

// serverMessage is one webhook body's "message".
type serverMessage struct {
	Type            string           `json:"type"`
	Timestamp       int64            `json:"timestamp"`
	Status          string           `json:"status,omitempty"`
	EndedReason     string           `json:"endedReason,omitempty"`
	Cost            *float64         `json:"cost,omitempty"`
	StartedAt       string           `json:"startedAt,omitempty"`
	EndedAt         string           `json:"endedAt,omitempty"`
	DurationSeconds *float64         `json:"durationSeconds,omitempty"`
	DurationMs      *int64           `json:"durationMs,omitempty"`
	Artifact        *artifactObject  `json:"artifact,omitempty"`
	Analysis        *analysisObject  `json:"analysis,omitempty"`
	Call            callObject       `json:"call"`
	PhoneNumber     phoneObject      `json:"phoneNumber"`
	Customer        customerObject   `json:"customer"`
	Assistant       *assistantObject `json:"assistant,omitempty"`
}

// createRequest is the body of POST /call, after the property check.
type createRequest struct {
	AssistantID        string          `json:"assistantId"`
	Assistant          json.RawMessage `json:"assistant"`
	AssistantOverrides json.RawMessage `json:"assistantOverrides"`
	PhoneNumberID      string          `json:"phoneNumberId"`
	Customer           *customerObject `json:"customer"`
	Name               string          `json:"name"`
}

// The parts of an assistant and its overrides the simulator reads.
type assistantFields struct {
	FirstMessage   string         `json:"firstMessage"`
	VariableValues map[string]any `json:"variableValues"`
	Metadata       map[string]any `json:"metadata"`
	Model          *struct {
		Messages []struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"messages"`
	} `json:"model"`
}

// Properties of Vapi's CreateCallDTO. The simulator handles the first
// group and refuses the second; anything else is unknown to Vapi too.
var (
	handledProperties  = []string{"assistantId", "assistant", "assistantOverrides", "phoneNumberId", "customer", "name"}
	refusedProperties  = []string{"customers", "schedulePlan", "transport", "squadId", "squad", "squadOverrides", "workflowId", "workflow", "workflowOverrides", "phoneNumber", "customerId"}
	maxCreateBodyBytes = int64(1 << 20)
)

// errorBody is Vapi's (NestJS) error shape.
type errorBody struct {
	Message    any    `json:"message"`
	Error      string `json:"error"`
	StatusCode int    `json:"statusCode"`
}

// inboundRequest is the body of POST /simulate/inbound.
type inboundRequest struct {
	From           string            `json:"from"`
	To             string            `json:"to"`
	CustomerName   string            `json:"customerName"`
	Intent         string            `json:"intent"` // "inquiry", "booking" or "" (drawn)
	Topic          string            `json:"topic"`
	OrganizationID string            `json:"organizationId"`
	Metadata       map[string]string `json:"metadata"`
}
