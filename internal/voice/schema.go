package voice

// Keys of the structured data AutoPulse asks for. Adapters read these; the
// simulator writes them.
const (
	KeyNPSScore      = "nps_score"
	KeySentiment     = "sentiment"
	KeyWantsBooking  = "wants_booking"
	KeyBookingTime   = "booking_time"
	KeyOptOut        = "opt_out"
	KeyInquiryTopic  = "inquiry_topic"
	KeyWentWell      = "went_well"
	KeyToImprove     = "to_improve"
	KeyCallbackAsked = "callback_requested"
)

// StructuredDataSchema is the JSON Schema of the analysis AutoPulse needs
// from every call. Configure it as the structured-data schema of each
// provider assistant (Vapi: analysisPlan.structuredDataPlan.schema); the
// Vapi adapter sends it with inline assistants.
const StructuredDataSchema = `{
  "type": "object",
  "properties": {
    "nps_score": {"type": "integer", "minimum": 0, "maximum": 10,
      "description": "The 0-10 score the customer gave when asked how likely they are to recommend the dealership. Omit if no score was given."},
    "sentiment": {"type": "string", "enum": ["positive", "neutral", "negative"],
      "description": "The customer's overall sentiment during the call."},
    "wants_booking": {"type": "boolean",
      "description": "True if the customer asked for or agreed to a service appointment."},
    "booking_time": {"type": "string", "format": "date-time",
      "description": "The appointment date and time the customer agreed to, as RFC 3339 with offset. Omit if none was agreed."},
    "opt_out": {"type": "boolean",
      "description": "True if the customer asked not to be called again (stop calling, remove me, do not call)."},
    "inquiry_topic": {"type": "string",
      "description": "Short label of what the customer asked about or complained about, if anything (e.g. pricing, recall, wait time)."},
    "went_well": {"type": "string", "description": "What the customer said went well."},
    "to_improve": {"type": "string", "description": "What the customer said did not go well."},
    "callback_requested": {"type": "boolean",
      "description": "True if the customer asked for a person to call them back."}
  }
}`
