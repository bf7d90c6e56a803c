package voice_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/voice"
)

func validRequest() voice.DialRequest {
	return voice.DialRequest{
		CallID:         uuid.New(),
		OrganizationID: uuid.New(),
		CampaignType:   voice.CampaignPostServiceFeedback,
		ToNumber:       "+14155550123",
		Disclosure:     "This is an automated call from Acme Motors and it is recorded.",
		FirstMessage:   "How was your visit?",
	}
}

func TestDialRequestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		modify func(*voice.DialRequest)
		want   string // substring of the error; "" = valid
	}{
		{"valid", func(*voice.DialRequest) {}, ""},
		{"no call id", func(r *voice.DialRequest) { r.CallID = uuid.Nil }, "call id"},
		{"no organization", func(r *voice.DialRequest) { r.OrganizationID = uuid.Nil }, "organization id"},
		{"national number", func(r *voice.DialRequest) { r.ToNumber = "4155550123" }, "E.164"},
		{"letters", func(r *voice.DialRequest) { r.ToNumber = "+1415CALLNOW" }, "E.164"},
		{"no disclosure", func(r *voice.DialRequest) { r.Disclosure = "  " }, "disclosure"},
		{"opening too long", func(r *voice.DialRequest) { r.FirstMessage = strings.Repeat("a", voice.MaxFirstMessageLen) }, "first message"},
		{"inline without prompt", func(r *voice.DialRequest) { r.Assistant = &voice.Assistant{Name: "x"} }, "system prompt"},
		{"inline name too long", func(r *voice.DialRequest) {
			r.Assistant = &voice.Assistant{Name: strings.Repeat("n", 41), SystemPrompt: "p"}
		}, "name"},
		{"too many variables", func(r *voice.DialRequest) {
			r.Variables = map[string]string{}
			for i := range voice.MaxVariables + 1 {
				r.Variables[fmt.Sprintf("var%d", i)] = "v"
			}
		}, "variables"},
		{"empty metadata key", func(r *voice.DialRequest) { r.Metadata = map[string]string{"": "v"} }, "metadata key"},
		{"long metadata value", func(r *voice.DialRequest) {
			r.Metadata = map[string]string{"k": strings.Repeat("v", voice.MaxValueLen+1)}
		}, "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := validRequest()
			tt.modify(&r)
			err := r.Validate()
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, voice.ErrInvalidRequest)
			require.NotErrorIs(t, err, voice.ErrRetryable)
			require.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestOpeningLineStartsWithDisclosure(t *testing.T) {
	t.Parallel()
	r := validRequest()
	require.Equal(t, r.Disclosure+" "+r.FirstMessage, r.OpeningLine())
	r.FirstMessage = r.Disclosure + " Hello!"
	require.Equal(t, r.FirstMessage, r.OpeningLine(), "a first message that already starts with the disclosure is kept")
	r.FirstMessage = ""
	require.Equal(t, r.Disclosure, r.OpeningLine())
}

func TestClassifyEndedReason(t *testing.T) {
	t.Parallel()
	tests := map[string]voice.Outcome{
		"customer-did-not-answer":          voice.OutcomeNoAnswer,
		"customer-busy":                    voice.OutcomeBusy,
		"voicemail":                        voice.OutcomeVoicemail,
		"customer-ended-call":              voice.OutcomeCompleted,
		"assistant-ended-call":             voice.OutcomeCompleted,
		"silence-timed-out":                voice.OutcomeCompleted,
		"twilio-failed-to-connect-call":    voice.OutcomeFailed,
		"call.start.error-get-assistant":   voice.OutcomeFailed,
		"pipeline-error-openai-llm-failed": voice.OutcomeFailed,
		"":                                 voice.OutcomeFailed,
		"some-new-reason":                  voice.OutcomeFailed,
	}
	for reason, want := range tests {
		require.Equal(t, want, voice.ClassifyEndedReason(reason), reason)
	}
}

func TestReportOutcomeUsesTranscriptForUnknownReasons(t *testing.T) {
	t.Parallel()
	spoke := []voice.Turn{{Role: voice.RoleAgent, Message: "Hi"}, {Role: voice.RoleCustomer, Message: "Hello"}}
	silent := []voice.Turn{{Role: voice.RoleAgent, Message: "Hi"}}

	r := voice.EndOfCallReport{EndedReason: "some-new-reason", Messages: spoke}
	require.Equal(t, voice.OutcomeCompleted, r.Outcome(), "an unknown reason with a customer turn was a conversation")
	r.Messages = silent
	require.Equal(t, voice.OutcomeFailed, r.Outcome())
	r = voice.EndOfCallReport{EndedReason: "call.in-progress.error-vapifault-worker-died", Messages: spoke}
	require.Equal(t, voice.OutcomeFailed, r.Outcome(), "a known error stays a failure")
	r = voice.EndOfCallReport{EndedReason: "customer-busy", Messages: spoke}
	require.Equal(t, voice.OutcomeBusy, r.Outcome())
}

func TestOutcomeRetry(t *testing.T) {
	t.Parallel()
	require.False(t, voice.OutcomeCompleted.Retry())
	for _, o := range []voice.Outcome{voice.OutcomeNoAnswer, voice.OutcomeBusy, voice.OutcomeVoicemail, voice.OutcomeFailed} {
		require.True(t, o.Retry(), o)
	}
	require.True(t, voice.OutcomeVoicemail.Connected())
	require.False(t, voice.OutcomeBusy.Connected())
}

func TestErrorMatchesSentinels(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  *voice.Error
		is   []error
		isnt []error
	}{
		{&voice.Error{Op: "dial", StatusCode: 503, Retryable: true, Uncertain: true},
			[]error{voice.ErrRetryable, voice.ErrUncertain}, []error{voice.ErrNotFound, voice.ErrInvalidRequest, voice.ErrUnauthorized}},
		{&voice.Error{Op: "dial", StatusCode: 401},
			[]error{voice.ErrUnauthorized}, []error{voice.ErrRetryable, voice.ErrUncertain}},
		{&voice.Error{Op: "get call", StatusCode: 404},
			[]error{voice.ErrNotFound}, []error{voice.ErrRetryable}},
		{&voice.Error{Op: "find call", NotFound: true},
			[]error{voice.ErrNotFound}, []error{voice.ErrInvalidRequest}},
		{&voice.Error{Op: "dial", StatusCode: 422},
			[]error{voice.ErrInvalidRequest}, []error{voice.ErrRetryable}},
	}
	for _, tt := range tests {
		wrapped := errors.Join(errors.New("context"), tt.err)
		for _, target := range tt.is {
			require.ErrorIs(t, wrapped, target, tt.err.Error())
		}
		for _, target := range tt.isnt {
			require.NotErrorIs(t, wrapped, target, tt.err.Error())
		}
	}
	require.True(t, voice.IsRetryable(&voice.Error{Retryable: true}))
}

func TestParseStatusAndRank(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"queued", "ringing", "in-progress", "forwarding", "ended"} {
		st, err := voice.ParseStatus(s)
		require.NoError(t, err)
		require.Positive(t, st.Rank())
	}
	_, err := voice.ParseStatus("completed")
	require.Error(t, err)
	require.Greater(t, voice.StatusEnded.Rank(), voice.StatusInProgress.Rank())
	require.Greater(t, voice.StatusInProgress.Rank(), voice.StatusQueued.Rank())
}

func TestNPSCategory(t *testing.T) {
	t.Parallel()
	want := []voice.NPSCategory{0: voice.Detractor, 6: voice.Detractor, 7: voice.Passive, 8: voice.Passive, 9: voice.Promoter, 10: voice.Promoter}
	for score, cat := range want {
		if cat != "" {
			require.Equal(t, cat, voice.CategoryOf(score), score)
		}
	}
}
