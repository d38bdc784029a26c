/**
 * The fleet's error catalogue: every code a fleet error may carry, with what it means and who
 * can meet it. A person meets a code through the HTTP API or the dashboard, so each such code
 * has a German sentence in the dashboard (dashboard/errors-de.js); an operator meets the rest
 * on the command line, at start-up, from the broker or in the logs (CONVENTIONS: errors).
 * Protocol codes the fleet passes on keep the protocol's meaning.
 */
import { PROTOCOL_ERRORS, RELEASE_ERRORS, RELEASE_KEYS_ERRORS } from "@lockfleet/protocol";

export type Audience = "person" | "operator";

export interface CatalogueEntry {
  audience: Audience;
  meaning: string;
}

const person = <M extends string>(meaning: M) => ({ audience: "person", meaning }) as const;
const operator = <M extends string>(meaning: M) => ({ audience: "operator", meaning }) as const;

/** A group of protocol codes the fleet answers as they are, with the protocol's meanings. */
function passedOn<G extends Record<string, string>, A extends Audience>(
  group: G,
  audience: A,
): { [K in keyof G]: { audience: A; meaning: G[K] } } {
  return Object.fromEntries(
    Object.entries(group).map(([code, meaning]) => [code, { audience, meaning }]),
  ) as { [K in keyof G]: { audience: A; meaning: G[K] } };
}

export const FLEET_ERRORS = {
  // who may do what
  E_UNAUTHENTICATED: person("the request carries no valid session or API token"),
  E_LOGIN_FAILED: person("the e-mail or password is wrong, or the account is not active"),
  E_RATE_LIMITED: person("too many failed attempts; the caller waits before trying again"),
  E_FORBIDDEN: person("the caller's role or scope does not allow this"),
  E_CROSS_ORIGIN: person("a request from another site may not use this site's session"),
  E_NOT_FOUND: person("the target does not exist or lies outside the caller's scope"),
  E_PASSWORD_CHANGE_REQUIRED: person("the account's password was reset and must be changed first"),
  E_PASSWORD_WRONG: person("the current password given is not the account's"),
  E_PASSWORD_WEAK: person("the new password is too weak for the password policy"),
  E_PASSWORD_SAME: person("the new password is the same as the current one"),
  E_SELF_SERVICE: person("nobody gives themselves rights, roles or an enabling"),
  E_SELF_APPROVAL: person("nobody approves a proposal that gives power to themselves"),
  E_SAME_APPROVER: person("this person approved already; the second approval is someone else's"),
  E_PUPPET_APPROVER: person("the two approvers are not independent of each other"),
  E_NOT_YET_ACTIVE: person("the approver was not yet an active officer when the proposal was made"),
  E_PROPOSAL_STATE: person("the proposal is no longer open for this step"),
  E_PROPOSAL_REQUIRED: person("a wider right is a new right, given through a proposal"),
  E_REASON_REQUIRED: person("the change needs a reason, which is kept with it"),
  E_ROLE: person("the role does not fit the person or the organisation"),
  E_ROLE_ORG: person("the role does not exist in this kind of organisation"),
  E_SCOPE: person("only a branch manager is bound to branches or a region"),
  E_SCOPE_REQUIRED: person("a branch manager's request must name one container of their branches"),
  // request form
  E_SCHEMA: person(PROTOCOL_ERRORS.E_SCHEMA),
  E_BAD_REQUEST: person("the request is malformed in a way the HTTP layer refuses"),
  E_TOO_LARGE: person("the request body is larger than the fleet accepts"),
  E_UNSUPPORTED_MEDIA_TYPE: person("the request body is of a media type the route does not take"),
  E_CONTENT_TYPE: person("the upload must be sent as application/octet-stream"),
  E_JSON: person("the JSON body is empty or not JSON"),
  E_JSON_KEY: person("the JSON body holds a key that is not allowed"),
  E_JSON_DUPLICATE_KEY: person("the JSON body gives one key twice in an object"),
  E_TEXT_CONTROL: person("a text field holds a control character"),
  E_TEXT_ENCODING: person("a text field is not well-formed Unicode"),
  E_DATE: person("a date names a day that does not exist"),
  E_LOCAL_TIME: person("a local time is not written as HH:MM"),
  E_TIME_ZONE: person("a time zone is unknown or not the branch's own"),
  E_BAD_CURSOR: person("the page cursor is not one this API returned"),
  E_INTERNAL: person("the fleet failed unexpectedly; the details are in the server log"),
  E_CONFLICT: person("the object is already kept and is not replaced"),
  // organisations, people, accounts
  E_EMAIL: person("an e-mail address is not of the form name@domain.tld"),
  E_EMAIL_TAKEN: person("an account with this e-mail address exists already"),
  E_USER_DISABLED: person("the account is closed"),
  E_REGION_EXISTS: person("a region of this name exists already"),
  E_ALREADY_IDENTIFIED: person("the person was identified already"),
  E_NOT_IDENTIFIED: person("the person must be identified before being enabled"),
  E_DOCUMENT_IN_USE: person("the identity document already identifies another person"),
  E_PERSON_DELETED: person("the person was deleted"),
  E_PERSON_NOT_ENABLED: person("the person is not enabled, so holds no rights on locks"),
  // contracts and rights
  E_CONTRACT_PARTY: person("the contract's other party is not a CIT company"),
  E_CONTRACT_WINDOW: person("a standing window names a container the contract does not list"),
  E_STANDING_WINDOWS: person("a contract's standing windows are not a list of windows"),
  E_NO_CONTRACT: person("no contract in force lets this company at the container"),
  E_RIGHT_EXISTS: person("the person already holds a right on this container"),
  E_RIGHT_REMOVED: person("the right was removed"),
  E_LOCK_REFUSED: person("the lock refused the command without naming its rule"),
  E_SEND: person("the command could not be sent to the lock"),
  E_PIN_LETTER_GONE: person("the PIN letter was downloaded already and is never shown again"),
  E_PIN_LETTER_SPLIT: person("this bank's PIN letters come in two halves for two officers"),
  E_PIN_LETTER_WHOLE: person("this PIN letter is delivered whole, not in halves"),
  E_SAME_OFFICER: person("the two halves of a PIN letter go to two different officers"),
  // opening windows and codes
  E_WINDOW_RANGE: person("the window ends before it begins or lies outside its allowed span"),
  E_WINDOW_STATE: person("the window is not in the state this step needs"),
  E_WINDOW_EXPIRED: person("the window has ended"),
  E_CREW: person("a crew is one to a few distinct people"),
  E_OTP_WINDOW: person("one-time codes need a window of at least an hour on a quarter hour"),
  E_CODES_ALREADY_SHOWN: person("the window's one-time codes were shown once already"),
  // locks
  E_DEVICE_RETIRED: person("the lock is retired and takes no commands"),
  E_DEVICE_UNKNOWN: person("the lock has no one-time-code secret in the fleet"),
  E_FLEET_KEY: person("the lock trusts none of the fleet keys the fleet still holds"),
  E_NO_OTP_SECRET: person("the lock has no one-time-code secret"),
  E_ENROLMENT_TOKEN: person("the enrolment token is not valid"),
  E_ENROLMENT_TOKEN_EXPIRED: person("the enrolment token has expired"),
  E_ENROLMENT_TOKEN_USED: person("the enrolment token was used already"),
  E_DRIFT_UNKNOWN: person("the fleet has not measured the lock's clock yet"),
  E_NO_CORRECTION: person("the lock's clock is right; there is nothing to correct"),
  E_CORRECTION_STATE: person("the clock correction is not in the state this step needs"),
  E_NO_LOCK: person("the container has no lock, or not the one named"),
  E_LOCK_AMBIGUOUS: person("the container has several locks; the request must name one"),
  E_RELEASE_PENDING: person("a central release of this container already waits for approval"),
  E_RELEASE_STATE: person("the central release is not in the state this step needs"),
  E_VALIDITY: person("the validity asked for is outside the range allowed"),
  // policies
  E_POLICY_STATE: person("the policy change is not in the state this step needs"),
  E_POLICY_UNCHANGED: person("the policy asked for is the container's policy already"),
  E_HOLIDAY_RANGE: person("a holiday ends before it starts"),
  // alarms and their forwarding
  E_ACK_COMMENT_REQUIRED: person("acknowledging an alarm needs a comment"),
  E_ACK_COMMENT_TOO_LONG: person("the acknowledgement's comment is longer than is kept"),
  E_ALARM_ACKNOWLEDGED: person("the alarm was acknowledged already"),
  E_ALARM_MISSING: person("the alarm vanished while it was being changed"),
  E_ALARM_SETTING: person("an alarm setting has a value it cannot take"),
  E_ESCALATION_POLICY: person("an escalation delay or target is not valid"),
  E_SYSLOG_FACILITY: person("a syslog facility is not a number from 0 to 23"),
  E_SYSLOG_SEVERITY: person("a syslog severity is not a number from 0 to 7"),
  E_WEBHOOK_URL: person("a webhook address is not an http(s) URL"),
  // reports and risk
  E_REPORT_PERIOD: person("the report period is not two ISO 8601 instants in order"),
  E_RISK_TITLE: person("a risk entry needs a title"),
  E_RISK_LIKELIHOOD: person("a likelihood is not on the scale 1 to 5"),
  E_RISK_JUSTIFICATION: person("a likelihood override needs a long enough justification"),
  E_RISK_NO_OVERRIDE: person("the risk entry has no likelihood override to remove"),
  E_RISK_PERIOD: person("the risk period is not two ISO instants in order"),
  E_RISK_REVIEW_DATE: person("a review date is not a date"),
  E_RISK_MISSING: person("the risk entry vanished while it was being changed"),
  // software updates: a release or key set refused by the protocol's rules, as the API answers it
  ...passedOn(RELEASE_ERRORS, "person"),
  ...passedOn(RELEASE_KEYS_ERRORS, "person"),
  E_RELEASE_NO_KEYS: person("the fleet holds no release public keys to check a release with"),
  E_RELEASE_NO_TARGET: person("the release has no target stored yet"),
  E_ROLLOUT_STATE: person("the rollout is not in the state this step needs"),
  E_ROLLOUT_NOT_WIDER: person("a rollout's ring only widens, never narrows"),

  // the command line and start-up
  E_USAGE: operator("the command line is not one the command takes"),
  E_CONFIG: operator("a setting is missing or has a value it cannot take"),
  E_PASSWORD: operator("a password given on setting up is not acceptable"),
  E_PORT_IN_USE: operator("the HTTP port is in use by another program"),
  E_STORAGE: operator("the data directory refuses writes"),
  E_NO_DATABASE: operator("there is no database at the path given"),
  E_BACKUP_EXISTS: operator("the backup file exists already and is not overwritten"),
  E_BACKUP_CORRUPT: operator("the backup written fails its integrity check"),
  E_INIT_EXISTS: operator("setting up the bank found an account for that e-mail already"),
  E_INIT_SAME_EMAIL: operator("the two first officers need two different e-mail addresses"),
  E_DUAL_CONTROL_EXISTS: operator("the bank has its officers; a new one is a proposal"),
  E_DASHBOARD_MISSING: operator("the dashboard's built files are not where the fleet looks"),
  E_MIGRATIONS_MISSING: operator("the database migration folder is missing"),
  E_MIGRATION_NAME: operator("a migration file is not named NNN-name.sql"),
  E_MIGRATION_DUPLICATE: operator("two migration files claim the same version"),
  E_MIGRATION_FAILED: operator("a database migration could not be applied"),
  E_KEK_INVALID: operator("the key-encryption key has not the length it needs"),
  E_KEK_PERMISSIONS: operator("the key-encryption key file is readable by other users"),
  E_KEY_FILE: operator("a key file does not hold a key that matches its seed"),
  E_SECRET_FORMAT: operator("a sealed secret is not in the form the fleet writes"),
  E_SECRET_UNREADABLE: operator("a sealed secret does not open under this key-encryption key"),
  E_METRIC_NAME: operator("a metric name is not one Prometheus accepts"),
  E_METRICS_TOKEN: operator("the metrics endpoint needs its bearer token"),
  E_METRICS_LOCAL_ONLY: operator("the metrics endpoint answers this machine only without a token"),
  // the release tool
  E_EXISTS: operator("the release key file exists already and is never overwritten"),
  E_RELEASE_KEY: operator("the file is not a release key file"),
  E_RELEASE_PASSPHRASE: operator("the passphrase does not open the release key file"),
  E_RANGE: operator("a lock's download asks for a byte range the fleet does not serve"),
  // the broker and alarm forwarding
  E_HUB_CLOSED: operator("the device hub is not connected to the broker"),
  E_BROKER_ACCOUNTS: operator("the broker's account administration cannot be reached or refused"),
  E_BROKER_MQ: operator("the embedded broker's message emitter is not the version guarded"),
  E_MQTT_PORT_TAKEN: operator("the MQTT port is in use by another program"),
  E_MQTT_TLS: operator("the broker's TLS certificate or key cannot be used"),
  E_MQTT_TLS_REQUIRED: operator("the embedded broker needs TLS, or plain MQTT enabled explicitly"),
  E_MQTT_PROTOCOL: operator("an MQTT client broke the protocol"),
  E_MQTT_PACKET_TOO_LARGE: operator("an MQTT packet is larger than the broker allows"),
  E_MQTT_CONNECT_TIMEOUT: operator("an MQTT client did not connect in time"),
  E_MQTT_TOO_MANY_UNAUTHENTICATED: operator("too many MQTT clients wait to authenticate"),
  E_MQTT_CLIENT_ID_BUSY: operator("an MQTT client id is in use by a connected client"),
  E_FORWARD_ABORTED: operator("an alarm forwarder was closed before it sent"),
  E_FORWARD_FAILED: operator("an alarm forwarder could not deliver the alarm"),
  E_FORWARD_REFUSED: operator("the receiver of forwarded alarms refused one"),
  // what locks send the fleet (kept in logs and the audit, never an answer to a person)
  E_BAD_SIGNATURE: operator(PROTOCOL_ERRORS.E_BAD_SIGNATURE),
  E_REPLAY: operator(PROTOCOL_ERRORS.E_REPLAY),
  E_UNSIGNED: operator(PROTOCOL_ERRORS.E_UNSIGNED),
  E_EXPIRED: operator(PROTOCOL_ERRORS.E_EXPIRED),
  E_NOT_YET_VALID: operator(PROTOCOL_ERRORS.E_NOT_YET_VALID),
  E_WRONG_DEVICE: operator(PROTOCOL_ERRORS.E_WRONG_DEVICE),
  E_UNKNOWN_TYPE: operator(PROTOCOL_ERRORS.E_UNKNOWN_TYPE),
  E_CHAIN_GAP: operator(PROTOCOL_ERRORS.E_CHAIN_GAP),
  E_NO_SUCH_USER: operator(PROTOCOL_ERRORS.E_NO_SUCH_USER),
  E_TIME_BACKWARDS: operator(PROTOCOL_ERRORS.E_TIME_BACKWARDS),
  E_AUDIT_CONFLICT: operator("a lock's audit records conflict with records the fleet holds"),
  E_CHECKPOINT_MISMATCH: operator("a lock's audit checkpoint does not match the fleet's records"),
  E_SEAL_INVALID: operator("a window's close seal from a lock does not verify"),
  E_UNKNOWN_DEVICE: operator("an alarm came from a lock the fleet has not enrolled"),
  E_ENROLMENT_PROOF: operator("an enrolment claim is not signed by the key it names"),
  E_DEVICE_EXISTS: operator("the lock is enrolled already"),
  E_LOCK_FULL: operator("the lock holds no free user slot"),
  E_UNKNOWN: operator("a lock refused an update without naming why"),
} as const satisfies Record<string, CatalogueEntry>;

export type FleetCode = keyof typeof FLEET_ERRORS;

/** Whether a code read at run time (a lock's answer, another package's error) is catalogued. */
export function isFleetCode(code: string): code is FleetCode {
  return Object.hasOwn(FLEET_ERRORS, code);
}
