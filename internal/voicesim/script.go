package voicesim

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/autopulse/autopulse/internal/voice"
)

// Script forces what happens on a call. Unset fields are drawn from the
// rates as usual (the draws happen either way, so scripting one call does
// not change the outcomes of the others).
type Script struct {
	Outcome voice.Outcome // completed, no_answer, busy, voicemail, failed; "" draws
	NPS     *int          // feedback calls: the score the customer gives, 0–10
	Booking *bool         // booking calls (and inbound): the customer books
	OptOut  *bool         // the customer asks not to be called again
	Topic   string        // inbound inquiries: what the customer asks about

	Duplicate   bool // deliver every message of the call twice
	ReportFirst bool // deliver the end-of-call report before the status updates
}

// Ptr returns a pointer to v, for Script's optional fields.
func Ptr[T any](v T) *T { return &v }

func (s *Script) validate() error {
	switch s.Outcome {
	case "", voice.OutcomeCompleted, voice.OutcomeNoAnswer, voice.OutcomeBusy, voice.OutcomeVoicemail, voice.OutcomeFailed:
	default:
		return fmt.Errorf("unknown outcome %q", s.Outcome)
	}
	if s.NPS != nil && (*s.NPS < 0 || *s.NPS > 10) {
		return fmt.Errorf("NPS %d is not 0-10", *s.NPS)
	}
	if len(s.Topic) > 200 {
		return errors.New("topic is longer than 200 bytes")
	}
	return nil
}

// line is one spoken turn of a planned conversation.
type line struct {
	bot   bool
	text  string
	start float64 // seconds from the answer
	end   float64
}

// plan is everything decided about a call when it is placed.
type plan struct {
	outcome     voice.Outcome
	endedReason string
	ring        time.Duration // simulated time from ringing to answer or give-up
	lines       []line
	talk        time.Duration // simulated time from answer to hang-up
	summary     string
	data        map[string]any // structured data; nil when none
	success     string
	cost        float64 // dollars
	recording   bool
	duplicate   bool
	reportFirst bool
	dropReport  bool
}

// facts are the details a conversation mentions.
type facts struct {
	campaign     string
	customerName string
	dealer       string
	vehicle      string
	service      string
	recall       string
	opening      string // the agent's first line (disclosure first)
	callback     string // the dealership's number, for voicemails
}

func factsFrom(campaign, customerName, firstMessage, line string, vars map[string]string) facts {
	f := facts{
		campaign:     campaign,
		customerName: firstNonEmpty(vars["customer_name"], customerName),
		dealer:       firstNonEmpty(vars["dealership_name"], "the dealership"),
		vehicle:      firstNonEmpty(vars["vehicle"], "your vehicle"),
		service:      firstNonEmpty(vars["service_type"], "its next scheduled maintenance"),
		recall:       firstNonEmpty(vars["recall_description"], "a free safety repair to the airbag sensor"),
		callback:     line,
	}
	f.opening = strings.TrimSpace(firstMessage)
	if f.opening == "" {
		f.opening = fmt.Sprintf("Hi, this is an automated assistant calling on behalf of %s. This call is recorded for quality.", f.dealer)
	}
	return f
}

// draws are the random choices for one call, made in a fixed order.
type draws struct {
	outcome     voice.Outcome
	nps         int
	booking     bool
	optOut      bool
	duplicate   bool
	reportFirst bool
	dropReport  bool
	pick        *rand.Rand // for wording and timing
}

func draw(rng *rand.Rand, r *Rates, f Faults, sc *Script) draws {
	d := draws{pick: rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64()))} //nolint:gosec // simulated outcomes, not secrets
	x := rng.Float64()
	switch {
	case x < r.NoAnswer:
		d.outcome = voice.OutcomeNoAnswer
	case x < r.NoAnswer+r.Busy:
		d.outcome = voice.OutcomeBusy
	case x < r.NoAnswer+r.Busy+r.Voicemail:
		d.outcome = voice.OutcomeVoicemail
	case x < r.NoAnswer+r.Busy+r.Voicemail+r.Failed:
		d.outcome = voice.OutcomeFailed
	default:
		d.outcome = voice.OutcomeCompleted
	}
	switch y := rng.Float64(); {
	case y < r.Promoter:
		d.nps = 9 + rng.IntN(2)
	case y < r.Promoter+r.Passive:
		d.nps = 7 + rng.IntN(2)
	default:
		d.nps = rng.IntN(7)
	}
	d.booking = rng.Float64() < r.Booking
	d.optOut = rng.Float64() < r.OptOut
	d.duplicate = rng.Float64() < f.DuplicateRate
	d.reportFirst = rng.Float64() < f.ReorderRate
	if f.DropReportRate > 0 { // drawn only when asked for: seeded runs keep their outcomes
		d.dropReport = rng.Float64() < f.DropReportRate
	}
	if sc != nil {
		if sc.Outcome != "" {
			d.outcome = sc.Outcome
		}
		if sc.NPS != nil {
			d.nps = *sc.NPS
		}
		if sc.Booking != nil {
			d.booking = *sc.Booking
		}
		if sc.OptOut != nil {
			d.optOut = *sc.OptOut
		}
		d.duplicate = d.duplicate || sc.Duplicate
		d.reportFirst = d.reportFirst || sc.ReportFirst
	}
	return d
}

// between returns a duration uniformly between lo and hi seconds.
func between(rng *rand.Rand, lo, hi float64) time.Duration {
	return time.Duration((lo + rng.Float64()*(hi-lo)) * float64(time.Second))
}

// planOutbound decides an outbound call.
func planOutbound(d draws, f facts, now time.Time) plan {
	p := plan{outcome: d.outcome, duplicate: d.duplicate, reportFirst: d.reportFirst, dropReport: d.dropReport}
	rng := d.pick
	switch d.outcome {
	case voice.OutcomeNoAnswer:
		p.endedReason = "customer-did-not-answer"
		p.ring = between(rng, 25, 35)
	case voice.OutcomeBusy:
		p.endedReason = "customer-busy"
		p.ring = between(rng, 1, 3)
	case voice.OutcomeFailed:
		p.endedReason = "twilio-failed-to-connect-call"
	case voice.OutcomeVoicemail:
		p.endedReason = "voicemail"
		p.ring = between(rng, 15, 25)
		c := newConversation(rng)
		c.bot(fmt.Sprintf("%s Sorry we missed you%s. Please call us back at %s when it suits you. Thank you!",
			f.opening, nameSuffix(f.customerName), f.callback))
		p.lines, p.talk = c.lines, c.length()
		p.summary = "The assistant reached voicemail and left a callback message."
		p.recording = true
	case voice.OutcomeCompleted:
		p.ring = between(rng, 3, 12)
		p.recording = true
		converse(&p, d, f, now)
	}
	p.cost = costOf(p)
	return p
}

// planInbound decides an inbound call; booking says whether the caller
// books or asks a question.
func planInbound(d draws, f facts, topic string, now time.Time) plan {
	p := plan{outcome: voice.OutcomeCompleted, duplicate: d.duplicate, reportFirst: d.reportFirst, dropReport: d.dropReport, recording: true}
	rng, c := d.pick, newConversation(d.pick)
	c.bot(fmt.Sprintf("Thanks for calling %s service. This call is recorded. How can I help you today?", f.dealer))
	data := map[string]any{}
	if d.booking {
		when := bookingTime(rng, now)
		c.user(fmt.Sprintf("Hi, I'd like to book an oil change for my %s.", strings.TrimPrefix(f.vehicle, "your ")))
		c.bot(fmt.Sprintf("Of course. I have %s. Would that work?", spoken(when)))
		c.user("Yes, that works.")
		c.bot(fmt.Sprintf("You're booked for %s. We'll see you then. Goodbye!", spoken(when)))
		data[voice.KeyWantsBooking] = true
		data[voice.KeyBookingTime] = when.Format(time.RFC3339)
		data[voice.KeyInquiryTopic] = "booking"
		data[voice.KeySentiment] = string(voice.SentimentPositive)
		p.summary = fmt.Sprintf("Inbound caller booked an oil change for %s.", when.Format(time.RFC3339))
		p.success = "true"
	} else {
		q := inquiryFor(topic, rng)
		c.user(q.question)
		c.bot("Good question. I've noted it, and a service advisor will call you back today with the details. Anything else?")
		c.user("No, that's all. Thanks.")
		c.bot("Thank you for calling. Goodbye!")
		data[voice.KeyWantsBooking] = false
		data[voice.KeyInquiryTopic] = q.topic
		data[voice.KeyCallbackAsked] = true
		data[voice.KeySentiment] = string(voice.SentimentNeutral)
		p.summary = fmt.Sprintf("Inbound caller asked about %s; an advisor will call back.", q.topic)
		p.success = "true"
	}
	p.endedReason = "assistant-ended-call"
	p.lines, p.talk, p.data = c.lines, c.length(), data
	p.cost = costOf(p)
	return p
}

type inquiry struct{ topic, question string }

var inquiries = []inquiry{
	{"pricing", "How much is a brake pad replacement on my car?"},
	{"parts availability", "Do you have the cabin air filter for my model in stock?"},
	{"recall", "I got a letter about a recall. Is it safe to keep driving until it's fixed?"},
	{"hours", "Are you open on Saturdays for service?"},
	{"loaner vehicle", "Can I get a loaner car while mine is in the shop?"},
	{"warranty", "Is a transmission noise covered by my extended warranty?"},
}

func inquiryFor(topic string, rng *rand.Rand) inquiry {
	if topic != "" {
		return inquiry{topic: topic, question: fmt.Sprintf("I have a question about %s.", topic)}
	}
	return inquiries[rng.IntN(len(inquiries))]
}

// converse writes a completed outbound conversation for the campaign.
func converse(p *plan, d draws, f facts, now time.Time) {
	rng, c := d.pick, newConversation(d.pick)
	data := map[string]any{}
	c.bot(f.opening)
	c.user(pickOne(rng, "Sure, I have a minute.", "Okay, go ahead.", "Yes, this is a good time."))
	p.endedReason = "assistant-ended-call"
	p.success = "true"
	optOut := func() {
		c.user("Actually, please stop calling me. Take me off your list.")
		c.bot("Understood. I've removed your number, and you won't receive further calls from us. Goodbye.")
		data[voice.KeyOptOut] = true
		data[voice.KeySentiment] = string(voice.SentimentNegative)
		p.endedReason = "customer-ended-call"
		p.success = "false"
	}

	switch f.campaign {
	case voice.CampaignPostServiceFeedback:
		c.bot(fmt.Sprintf("Thanks%s. On a scale from zero to ten, how likely are you to recommend %s to a friend?", nameSuffix(f.customerName), f.dealer))
		if d.optOut && rng.IntN(2) == 0 {
			optOut()
			p.summary = "The customer declined to give feedback and asked not to be called again."
			break
		}
		c.user(fmt.Sprintf("I'd give it a %d.", d.nps))
		data[voice.KeyNPSScore] = d.nps
		switch voice.CategoryOf(d.nps) {
		case voice.Promoter:
			c.bot("That's great to hear! What stood out about your visit?")
			praise := pickOne(rng, "The advisor explained everything clearly.", "It was done faster than I expected.", "The car came back spotless.")
			c.user(praise)
			c.bot("Thank you! We'll text you a link in case you'd like to leave a review. Have a great day.")
			data[voice.KeySentiment] = string(voice.SentimentPositive)
			data[voice.KeyWentWell] = praise
			p.summary = fmt.Sprintf("Promoter (NPS %d). Praised: %s", d.nps, praise)
		case voice.Passive:
			c.bot("Thanks. What could we have done better?")
			gripe := pickOne(rng, "The wait was a bit long.", "I wasn't told about the extra charge up front.", "Booking the appointment took a while.")
			c.user(gripe)
			c.bot("Thanks for the honest feedback; I'll pass it along to the service team. Goodbye.")
			data[voice.KeySentiment] = string(voice.SentimentNeutral)
			data[voice.KeyToImprove] = gripe
			p.summary = fmt.Sprintf("Passive (NPS %d). To improve: %s", d.nps, gripe)
		default:
			c.bot("I'm sorry to hear that. What went wrong?")
			topic, complaint := pickPair(rng,
				[2]string{"repair quality", "The noise I brought it in for is still there."},
				[2]string{"wait time", "I waited four hours and nobody updated me."},
				[2]string{"billing", "I was charged for work I didn't approve."})
			c.user(complaint)
			c.bot("I'm very sorry. I'll ask the service manager to call you back personally today.")
			data[voice.KeySentiment] = string(voice.SentimentNegative)
			data[voice.KeyToImprove] = complaint
			data[voice.KeyInquiryTopic] = topic
			data[voice.KeyCallbackAsked] = true
			p.summary = fmt.Sprintf("Detractor (NPS %d). Complaint about %s: %s", d.nps, topic, complaint)
		}
		if d.optOut {
			optOut()
		}
		data[voice.KeyWantsBooking] = false
	default:
		switch f.campaign {
		case voice.CampaignRecall:
			c.bot(fmt.Sprintf("There's an open safety recall on %s: %s. The repair is free. Can we book a time for it?", f.vehicle, f.recall))
		case voice.CampaignDeclinedService:
			c.bot(fmt.Sprintf("At your last visit our technician recommended %s for %s, which you chose to postpone. Would you like to schedule it now?", f.service, f.vehicle))
		case voice.CampaignServiceReminder:
			c.bot(fmt.Sprintf("Our records show %s is due for %s. Would you like to schedule an appointment?", f.vehicle, f.service))
		default:
			c.bot(fmt.Sprintf("We're checking in about %s. Is there anything we can help you with, or would you like to book a visit?", f.vehicle))
		}
		switch {
		case d.optOut:
			optOut()
			p.summary = "The customer asked not to be called again."
		case d.booking:
			when := bookingTime(rng, now)
			c.user(fmt.Sprintf("Yes, %s would work.", when.Format("Monday")))
			c.bot(fmt.Sprintf("I have %s. Shall I book it?", spoken(when)))
			c.user("Perfect.")
			c.bot(fmt.Sprintf("You're booked for %s. See you then!", spoken(when)))
			data[voice.KeyWantsBooking] = true
			data[voice.KeyBookingTime] = when.Format(time.RFC3339)
			data[voice.KeySentiment] = string(voice.SentimentPositive)
			p.summary = fmt.Sprintf("The customer booked an appointment for %s.", when.Format(time.RFC3339))
		default:
			c.user(pickOne(rng, "Not right now, I'll call when I'm ready.", "I'm traveling this month. Maybe later."))
			c.bot("No problem. You can reach us any time. Have a good day!")
			data[voice.KeyWantsBooking] = false
			data[voice.KeySentiment] = string(voice.SentimentNeutral)
			p.summary = "The customer did not want to book now."
			p.success = "false"
		}
	}
	p.lines, p.talk, p.data = c.lines, c.length(), data
}

// conversation lays out turns in simulated time.
type conversation struct {
	rng   *rand.Rand
	at    float64
	lines []line
}

func newConversation(rng *rand.Rand) *conversation { return &conversation{rng: rng, at: 0.4} }

func (c *conversation) say(bot bool, text string) {
	words := float64(len(strings.Fields(text)))
	d := math.Max(1, words/2.6) // about 155 words a minute
	c.lines = append(c.lines, line{bot: bot, text: text, start: round2(c.at), end: round2(c.at + d)})
	c.at += d + 0.5 + c.rng.Float64()*0.8
}

func (c *conversation) bot(text string)  { c.say(true, text) }
func (c *conversation) user(text string) { c.say(false, text) }

func (c *conversation) length() time.Duration {
	if len(c.lines) == 0 {
		return 0
	}
	return time.Duration((c.lines[len(c.lines)-1].end + 0.8) * float64(time.Second))
}

// costOf prices a call like Vapi's all-in per-minute rate.
func costOf(p plan) float64 {
	if p.talk == 0 {
		return 0
	}
	return math.Round((0.01+0.11*p.talk.Minutes())*10000) / 10000
}

// bookingTime is the next weekday at 9, 10 or 14 h UTC, one to six days out.
func bookingTime(rng *rand.Rand, now time.Time) time.Time {
	day := now.UTC().AddDate(0, 0, 1+rng.IntN(6))
	for day.Weekday() == time.Saturday || day.Weekday() == time.Sunday {
		day = day.AddDate(0, 0, 1)
	}
	hour := []int{9, 10, 14}[rng.IntN(3)]
	return time.Date(day.Year(), day.Month(), day.Day(), hour, 0, 0, 0, time.UTC)
}

func spoken(t time.Time) string { return t.Format("Monday, January 2 at 3 PM") }

func nameSuffix(name string) string {
	if name == "" {
		return ""
	}
	return ", " + strings.Fields(name)[0]
}

func pickOne(rng *rand.Rand, options ...string) string { return options[rng.IntN(len(options))] }

func pickPair(rng *rand.Rand, options ...[2]string) (topic, text string) {
	o := options[rng.IntN(len(options))]
	return o[0], o[1]
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return ""
}
