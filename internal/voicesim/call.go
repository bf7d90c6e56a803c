package voicesim

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/autopulse/autopulse/internal/voice"
)

// call is one simulated call. Fields below "progress" change as the call
// advances and are guarded by Server.mu; the rest is fixed at creation.
type call struct {
	id            string
	direction     voice.Direction
	createdAt     time.Time
	campaign      string
	customer      customerObject
	phoneNumberID string
	line          string // the line's E.164 number
	assistantID   string
	overrides     json.RawMessage // assistantOverrides as sent, echoed back
	systemPrompt  string
	meta          map[string]string
	base          string // base URL of the recording
	plan          plan

	// progress
	status    string
	updatedAt time.Time
	startedAt time.Time
	endedAt   time.Time
	reported  bool
}

// step is a moment in a call's life: a status change, or the report.
type step struct {
	at     time.Duration // simulated, from creation
	status voice.Status  // "" for the end-of-call report
}

func (c *call) timeline() []step {
	p := c.plan
	var steps []step
	add := func(at time.Duration, st voice.Status) { steps = append(steps, step{at, st}) }
	if c.direction == voice.Inbound {
		add(200*time.Millisecond, voice.StatusRinging)
		add(time.Second, voice.StatusInProgress)
		add(time.Second+p.talk, voice.StatusEnded)
	} else {
		t := 300 * time.Millisecond
		add(t, voice.StatusQueued)
		if p.outcome == voice.OutcomeFailed {
			t += 1200 * time.Millisecond
		} else {
			t += time.Second
			add(t, voice.StatusRinging)
			t += p.ring
			if p.outcome == voice.OutcomeCompleted || p.outcome == voice.OutcomeVoicemail {
				add(t, voice.StatusInProgress)
				t += p.talk
			}
		}
		add(t, voice.StatusEnded)
	}
	// Post-call analysis takes a few seconds.
	add(steps[len(steps)-1].at+3*time.Second, "")
	return steps
}

// simulate walks c through its timeline, delivering each message.
func (s *Server) simulate(c *call) {
	defer s.wg.Done()
	start := time.Now()
	var held [][]byte
	for _, st := range c.timeline() {
		if !s.sleep(time.Until(start.Add(s.scale(st.at)))) {
			return
		}
		body := s.advance(c, st)
		if body == nil {
			continue
		}
		if st.status != "" && c.plan.reportFirst {
			held = append(held, body)
			continue
		}
		if st.status != "" || !c.plan.dropReport {
			s.send(c, body)
		}
		if st.status == "" {
			for _, h := range held {
				s.send(c, h)
			}
		}
	}
}

func (s *Server) send(c *call, body []byte) {
	s.deliver(c, body)
	if c.plan.duplicate {
		s.deliver(c, body)
	}
}

// advance applies a step to c and renders its webhook body.
func (s *Server) advance(c *call, st step) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now().UTC().Truncate(time.Millisecond)
	msg := serverMessage{
		Timestamp:   now.UnixMilli(),
		PhoneNumber: phoneObject{ID: c.phoneNumberID, Number: c.line},
		Customer:    c.customer,
	}
	if c.direction == voice.Inbound && len(c.meta) > 0 {
		msg.Assistant = &assistantObject{Metadata: c.meta}
	}
	c.updatedAt = now
	if st.status != "" {
		c.status = string(st.status)
		switch st.status {
		case voice.StatusInProgress:
			c.startedAt = now
		case voice.StatusEnded:
			c.endedAt = now
			msg.EndedReason = c.plan.endedReason
		case voice.StatusQueued, voice.StatusRinging, voice.StatusForwarding:
		}
		msg.Type = "status-update"
		msg.Status = c.status
		msg.Call = s.objectLocked(c)
	} else {
		c.reported = true
		msg.Type = "end-of-call-report"
		obj := s.objectLocked(c)
		msg.Call = obj
		msg.EndedReason = obj.EndedReason
		msg.Cost = obj.Cost
		msg.StartedAt, msg.EndedAt = obj.StartedAt, obj.EndedAt
		secs := math.Round(c.plan.talk.Seconds()*1000) / 1000
		ms := c.plan.talk.Milliseconds()
		msg.DurationSeconds, msg.DurationMs = &secs, &ms
		msg.Artifact, msg.Analysis = obj.Artifact, obj.Analysis
	}
	body, err := json.Marshal(map[string]any{"message": msg})
	if err != nil {
		s.log.Error("encoding webhook", "err", err)
		return nil
	}
	return body
}

// objectLocked renders c as Vapi's Call object.
func (s *Server) objectLocked(c *call) callObject {
	o := callObject{
		ID:                 c.id,
		OrgID:              "voicesim",
		Type:               "outboundPhoneCall",
		Status:             c.status,
		CreatedAt:          stamp(c.createdAt),
		UpdatedAt:          stamp(c.updatedAt),
		StartedAt:          stamp(c.startedAt),
		EndedAt:            stamp(c.endedAt),
		PhoneNumberID:      c.phoneNumberID,
		AssistantID:        c.assistantID,
		Customer:           c.customer,
		AssistantOverrides: c.overrides,
	}
	if c.direction == voice.Inbound {
		o.Type = "inboundPhoneCall"
	}
	if c.status == string(voice.StatusEnded) {
		o.EndedReason = c.plan.endedReason
		cost := c.plan.cost
		o.Cost = &cost
	}
	if c.reported {
		o.Artifact = s.artifact(c)
		o.Analysis = &analysisObject{Summary: c.plan.summary, StructuredData: c.plan.data, SuccessEvaluation: c.plan.success}
	}
	return o
}

func (s *Server) artifact(c *call) *artifactObject {
	a := &artifactObject{Messages: []messageObject{}}
	if len(c.plan.lines) == 0 {
		return a
	}
	t0 := c.startedAt
	if t0.IsZero() {
		t0 = c.endedAt
	}
	if c.systemPrompt != "" {
		a.Messages = append(a.Messages, messageObject{Role: "system", Message: c.systemPrompt, Time: t0.UnixMilli()})
	}
	var tr strings.Builder
	for _, l := range c.plan.lines {
		role, who := "user", "User: "
		if l.bot {
			role, who = "bot", "AI: "
		}
		begin := t0.Add(time.Duration(l.start * float64(time.Second))).UnixMilli()
		end := t0.Add(time.Duration(l.end * float64(time.Second))).UnixMilli()
		a.Messages = append(a.Messages, messageObject{
			Role: role, Message: l.text, Time: begin, EndTime: end,
			SecondsFromStart: l.start, Duration: end - begin,
		})
		tr.WriteString(who + l.text + "\n")
	}
	a.Transcript = tr.String()
	if c.plan.recording {
		a.RecordingURL = strings.TrimRight(c.base, "/") + "/recordings/" + c.id + ".wav"
	}
	return a
}

// deliver posts one webhook body, retrying with exponential backoff after
// a transport error, 408, 429 or 5xx, at most WebhookAttempts times.
func (s *Server) deliver(c *call, body []byte) {
	if s.cfg.WebhookURL == "" || s.cfg.WebhookURL == "off" {
		return
	}
	backoff := s.cfg.WebhookBackoff
	for attempt := 1; ; attempt++ {
		status, wait, err := s.post(body)
		if err == nil && status >= 200 && status <= 299 {
			s.delivered.Add(1)
			return
		}
		retryable := err != nil || status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500
		if !retryable || attempt >= s.cfg.WebhookAttempts || s.ctx.Err() != nil {
			s.failures.Add(1)
			s.log.Warn("webhook not delivered", "call_id", c.id, "attempts", attempt, "status", status, "err", err)
			return
		}
		s.retries.Add(1)
		if !s.sleep(s.scale(max(backoff, wait))) {
			return
		}
		backoff = min(2*backoff, time.Minute)
	}
}

func (s *Server) post(body []byte) (status int, retryAfter time.Duration, err error) {
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, s.cfg.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "voicesim")
	req.Header.Set("X-Vapi-Signature", sign([]byte(s.cfg.WebhookSecret), body))
	if s.cfg.SendSecretHeader {
		req.Header.Set("X-Vapi-Secret", s.cfg.WebhookSecret)
	}
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs > 0 {
		retryAfter = min(time.Duration(secs)*time.Second, time.Minute)
	}
	return resp.StatusCode, retryAfter, nil
}

// sign is the simulator's own HMAC-SHA256 (hex) of the body, written
// independently of internal/vapi's so the adapter's Verify is checked
// against a second implementation.
func sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// scale compresses a simulated duration by Speed.
func (s *Server) scale(d time.Duration) time.Duration {
	return time.Duration(float64(d) / s.cfg.Speed)
}

// sleep waits d, or until the server closes (false).
func (s *Server) sleep(d time.Duration) bool {
	if d <= 0 {
		return s.ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.ctx.Done():
		return false
	}
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}
