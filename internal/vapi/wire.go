package vapi

import "encoding/json"

// The JSON shapes of Vapi's API that AutoPulse reads, reduced to the
// fields it uses. Unknown fields are ignored; a known field of the wrong
// JSON type fails decoding. Fields whose shape varies (timestamps, the
// metadata, structured data, transcript messages) stay raw and are
// checked one by one, so one odd value does not lose a whole report.

type wireEnvelope struct {
	Message *wireMessage `json:"message"`
}

// wireMessage is a server message ({"message": {...}}).
type wireMessage struct {
	Type        string           `json:"type"`
	Timestamp   json.RawMessage  `json:"timestamp"` // ms since epoch, or an ISO string in older payloads
	Status      string           `json:"status"`
	EndedReason string           `json:"endedReason"`
	Cost        *json.Number     `json:"cost"`
	StartedAt   string           `json:"startedAt"`
	EndedAt     string           `json:"endedAt"`
	Duration    *float64         `json:"durationSeconds"`
	Artifact    *wireArtifact    `json:"artifact"`
	Analysis    *wireAnalysis    `json:"analysis"`
	Call        *wireCall        `json:"call"`
	Customer    *wireCustomer    `json:"customer"`
	PhoneNumber *wirePhoneNumber `json:"phoneNumber"`
	Assistant   *wireAssistant   `json:"assistant"`

	// Older payloads put these at the top level of the message.
	Transcript   string          `json:"transcript"`
	RecordingURL string          `json:"recordingUrl"`
	Summary      string          `json:"summary"`
	Messages     json.RawMessage `json:"messages"`
}

// wireCall is Vapi's Call object (GET /call/{id}, message.call).
type wireCall struct {
	ID                 string                  `json:"id"`
	Type               string                  `json:"type"`
	Status             string                  `json:"status"`
	EndedReason        string                  `json:"endedReason"`
	CreatedAt          string                  `json:"createdAt"`
	StartedAt          string                  `json:"startedAt"`
	EndedAt            string                  `json:"endedAt"`
	Cost               *json.Number            `json:"cost"`
	PhoneNumberID      string                  `json:"phoneNumberId"`
	Customer           *wireCustomer           `json:"customer"`
	PhoneNumber        *wirePhoneNumber        `json:"phoneNumber"`
	Metadata           json.RawMessage         `json:"metadata"`
	Assistant          *wireAssistant          `json:"assistant"`
	AssistantOverrides *wireAssistantOverrides `json:"assistantOverrides"`
	Artifact           *wireArtifact           `json:"artifact"`
	Analysis           *wireAnalysis           `json:"analysis"`
	Messages           json.RawMessage         `json:"messages"`
	Transcript         string                  `json:"transcript"`
	RecordingURL       string                  `json:"recordingUrl"`
	Summary            string                  `json:"summary"`
}

type wireCustomer struct {
	Number string `json:"number"`
	Name   string `json:"name"`
}

type wirePhoneNumber struct {
	ID     string `json:"id"`
	Number string `json:"number"`
}

type wireAssistant struct {
	Metadata json.RawMessage `json:"metadata"`
}

type wireAssistantOverrides struct {
	Metadata json.RawMessage `json:"metadata"`
}

type wireArtifact struct {
	Messages     json.RawMessage `json:"messages"`
	Transcript   string          `json:"transcript"`
	RecordingURL string          `json:"recordingUrl"`
	Recording    *struct {
		Mono *struct {
			CombinedURL string `json:"combinedUrl"`
		} `json:"mono"`
	} `json:"recording"`
}

type wireAnalysis struct {
	Summary           string          `json:"summary"`
	StructuredData    json.RawMessage `json:"structuredData"`
	SuccessEvaluation json.RawMessage `json:"successEvaluation"`
}

// wireTurn is one element of artifact.messages. Tool-call elements have
// other fields and no message; they are skipped.
type wireTurn struct {
	Role             string   `json:"role"`
	Message          string   `json:"message"`
	Time             *float64 `json:"time"`    // ms since epoch
	EndTime          *float64 `json:"endTime"` // ms since epoch
	SecondsFromStart *float64 `json:"secondsFromStart"`
}

// The body of POST /call. Vapi rejects properties it does not know, so
// only documented ones appear. The call's metadata rides in
// assistantOverrides.metadata: CreateCallDTO has no metadata of its own.
type createCallBody struct {
	AssistantID        string              `json:"assistantId,omitempty"`
	Assistant          *createAssistant    `json:"assistant,omitempty"`
	AssistantOverrides *assistantOverrides `json:"assistantOverrides,omitempty"`
	PhoneNumberID      string              `json:"phoneNumberId"`
	Customer           createCustomer      `json:"customer"`
	Name               string              `json:"name,omitempty"`
}

type createCustomer struct {
	Number string `json:"number"`
	Name   string `json:"name,omitempty"`
}

type assistantOverrides struct {
	FirstMessage     string            `json:"firstMessage,omitempty"`
	FirstMessageMode string            `json:"firstMessageMode,omitempty"`
	VariableValues   map[string]string `json:"variableValues,omitempty"`
	Metadata         map[string]string `json:"metadata,omitempty"`
}

type createAssistant struct {
	Name         string          `json:"name,omitempty"`
	FirstMessage string          `json:"firstMessage"`
	Model        createModel     `json:"model"`
	Voice        *createVoice    `json:"voice,omitempty"`
	AnalysisPlan *analysisPlan   `json:"analysisPlan,omitempty"`
	ArtifactPlan *artifactPlan   `json:"artifactPlan,omitempty"`
	Metadata     json.RawMessage `json:"metadata,omitempty"`
}

type createModel struct {
	Provider string         `json:"provider"`
	Model    string         `json:"model"`
	Messages []modelMessage `json:"messages"`
}

type modelMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type createVoice struct {
	Provider string `json:"provider"`
	VoiceID  string `json:"voiceId"`
}

type analysisPlan struct {
	StructuredDataPlan structuredDataPlan `json:"structuredDataPlan"`
}

type structuredDataPlan struct {
	Enabled bool            `json:"enabled"`
	Schema  json.RawMessage `json:"schema"`
}

type artifactPlan struct {
	RecordingEnabled bool `json:"recordingEnabled"`
}

// wireError is the body of Vapi's error responses (NestJS style); message
// is a string or a list of strings.
type wireError struct {
	Message json.RawMessage `json:"message"`
	Error   string          `json:"error"`
}
