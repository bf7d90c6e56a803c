package voice

import "strings"

// Outcome is what a call attempt came to, for scheduling and KPIs.
type Outcome string

// Outcomes.
const (
	OutcomeCompleted Outcome = "completed" // someone answered and the agent spoke with them
	OutcomeNoAnswer  Outcome = "no_answer"
	OutcomeBusy      Outcome = "busy"
	OutcomeVoicemail Outcome = "voicemail"
	OutcomeFailed    Outcome = "failed" // the call could not be placed or broke down
)

// Vapi's ended reasons that settle the outcome outright.
var endedReasonOutcome = map[string]Outcome{
	"customer-did-not-answer":                         OutcomeNoAnswer,
	"customer-did-not-give-microphone-permission":     OutcomeNoAnswer,
	"customer-busy":                                   OutcomeBusy,
	"call.forwarding.operator-busy":                   OutcomeBusy,
	"voicemail":                                       OutcomeVoicemail,
	"customer-ended-call":                             OutcomeCompleted,
	"customer-ended-call-before-warm-transfer":        OutcomeCompleted,
	"customer-ended-call-after-warm-transfer-attempt": OutcomeCompleted,
	"customer-ended-call-during-transfer":             OutcomeCompleted,
	"assistant-ended-call":                            OutcomeCompleted,
	"assistant-said-end-call-phrase":                  OutcomeCompleted,
	"assistant-ended-call-with-hangup-task":           OutcomeCompleted,
	"assistant-ended-call-after-message-spoken":       OutcomeCompleted,
	"assistant-forwarded-call":                        OutcomeCompleted,
	"exceeded-max-duration":                           OutcomeCompleted,
	"silence-timed-out":                               OutcomeCompleted,
	"vonage-completed":                                OutcomeCompleted,
	"call.in-progress.twilio-completed-call":          OutcomeCompleted,
	"call.in-progress.sip-completed-call":             OutcomeCompleted,
	"twilio-failed-to-connect-call":                   OutcomeFailed,
	"twilio-reported-customer-misdialed":              OutcomeFailed,
	"vonage-failed-to-connect-call":                   OutcomeFailed,
	"vonage-rejected":                                 OutcomeFailed,
	"vonage-disconnected":                             OutcomeFailed,
	"manually-canceled":                               OutcomeFailed,
	"phone-call-provider-closed-websocket":            OutcomeFailed,
	"worker-shutdown":                                 OutcomeFailed,
	"assistant-join-timed-out":                        OutcomeFailed,
	"assistant-not-found":                             OutcomeFailed,
	"assistant-not-valid":                             OutcomeFailed,
}

// failureMarkers appear in the many error reasons Vapi sends
// ("call.start.error-…", "pipeline-error-…", "…-failed", "…vapifault…").
var failureMarkers = []string{"error", "fault", "failed", "rejected"}

// ClassifyEndedReason maps a Vapi ended reason to an outcome. Reasons it
// does not recognize are failures; EndOfCallReport.Outcome refines that
// with the transcript.
func ClassifyEndedReason(reason string) Outcome {
	if o, ok := endedReasonOutcome[reason]; ok {
		return o
	}
	return OutcomeFailed
}

// isKnownFailure reports whether reason is a failure for certain rather
// than merely unrecognized.
func isKnownFailure(reason string) bool {
	if o, ok := endedReasonOutcome[reason]; ok {
		return o == OutcomeFailed
	}
	for _, m := range failureMarkers {
		if strings.Contains(reason, m) {
			return true
		}
	}
	return false
}

// Connected reports whether the outcome means someone (or a machine)
// picked up.
func (o Outcome) Connected() bool { return o == OutcomeCompleted || o == OutcomeVoicemail }

// Retry reports whether the target should get another attempt (subject to
// the campaign's caps).
func (o Outcome) Retry() bool {
	switch o {
	case OutcomeNoAnswer, OutcomeBusy, OutcomeVoicemail, OutcomeFailed:
		return true
	case OutcomeCompleted:
		return false
	}
	return false
}
