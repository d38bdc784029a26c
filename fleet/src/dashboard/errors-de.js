// @ts-check
// The fleet's errors in German, by their stable code: the fleet answers every refusal with a
// code and an English sentence; in German the page shows the sentence below instead (with the
// code, for support). A code missing here shows the fleet's English sentence.
// A test checks that every code the fleet's catalogue (error-catalogue.ts) gives the audience
// "person" has an entry here.

/** @type {Record<string, string>} */
export const GERMAN_ERRORS = {
  // who may do what
  E_UNAUTHENTICATED: "Bitte zuerst anmelden.",
  E_LOGIN_FAILED: "E-Mail oder Passwort falsch, oder das Konto ist nicht aktiv.",
  E_RATE_LIMITED: "Zu viele Versuche. Bitte etwas später erneut versuchen.",
  E_FORBIDDEN: "Ihre Rolle darf das nicht.",
  E_CROSS_ORIGIN:
    "Diese Anfrage kommt von einer anderen Seite und darf die Anmeldung nicht nutzen.",
  E_NOT_FOUND: "Nicht gefunden, oder außerhalb Ihres Zuständigkeitsbereichs.",
  E_PASSWORD_CHANGE_REQUIRED:
    "Das Passwort dieses Kontos wurde zurückgesetzt; bitte zuerst ein neues Passwort setzen.",
  E_PASSWORD_WRONG: "Das bisherige Passwort stimmt nicht.",
  E_PASSWORD_WEAK: "Das Passwort ist zu schwach.",
  E_PASSWORD_SAME: "Das neue Passwort muss sich vom bisherigen unterscheiden.",
  E_USER_DISABLED: "Dieses Konto ist geschlossen.",
  // software updates
  E_CONFLICT: "Das gibt es schon.",
  E_CONTENT_TYPE: "Die Datei hat nicht das erwartete Format.",
  E_RELEASE_MALFORMED: "Das signierte Release ist beschädigt oder unvollständig.",
  E_RELEASE_NOT_CANONICAL: "Das signierte Release ist nicht in kanonischer Form.",
  E_RELEASE_SCHEMA: "Die Angaben des Releases sind nicht gültig.",
  E_RELEASE_NO_TARGET: "Zu diesem Release wurde noch keine Software-Datei hochgeladen.",
  E_ROLLOUT_STATE: "Die Verteilung ist nicht in einem Zustand, der das erlaubt.",
  E_RELEASE_NO_KEYS:
    "Die Flottenverwaltung kennt noch keine Release-Schlüssel (release-keys.json im Datenverzeichnis).",
  E_RELEASE_KEYS_ROLLBACK: "Dieser Schlüsselsatz ist nicht neuer als der bereits vertraute.",
  E_ROLLOUT_NOT_WIDER:
    "Die Änderung erweitert die Verteilung nicht; zum Verkleinern bitte anhalten.",
  E_UPDATE_HASH: "Die Software-Datei hat nicht die Prüfsumme, die das Release nennt.",
  E_UPDATE_LENGTH: "Die Software-Datei hat nicht die Länge, die das Release nennt.",
  E_RELEASE_UNKNOWN_KEY:
    "Das Release ist mit einem Schlüssel signiert, dem die Schlösser nicht vertrauen.",
  E_RELEASE_BAD_SIGNATURE: "Die Signatur des Releases ist nicht gültig.",
  E_RELEASE_KEY_REVOKED: "Das Release ist mit einem zurückgezogenen Schlüssel signiert.",
  E_UPDATE_ROLLBACK: "Das Release ist nicht neuer als die laufende Version.",
  E_UPDATE_FROZEN:
    "Die Angaben des Releases sind abgelaufen; bitte ein neu signiertes Release verwenden.",
  E_UPDATE_NOT_YET_VALID: "Das Release ist nach der vertrauten Uhrzeit erst später ausgestellt.",
  E_UPDATE_NO_TRUSTED_TIME:
    "Ohne vertraute Uhrzeit lässt sich nicht prüfen, ob das Release abgelaufen ist.",
  E_UPDATE_PROFILE: "Das Release passt nicht zur Hardware des Schlosses.",
  E_UPDATE_FROM_TOO_OLD:
    "Die laufende Version ist älter als die, von der das Release aus installiert werden kann.",
  E_RELEASE_KEYS_FILE: "Die Datei der Release-Schlüssel (release-keys.json) ist nicht lesbar.",
  E_RELEASE_KEYS_MALFORMED: "Der signierte Schlüsselsatz ist beschädigt oder unvollständig.",
  E_RELEASE_KEYS_NOT_CANONICAL: "Der Schlüsselsatz ist nicht in kanonischer Form.",
  E_RELEASE_KEYS_SCHEMA: "Die Angaben des Schlüsselsatzes sind nicht gültig.",
  E_RELEASE_KEYS_THRESHOLD:
    "Der Schlüsselsatz trägt nicht genug Signaturen der heute vertrauten Schlüssel.",
  E_RELEASE_KEYS_NEW_THRESHOLD:
    "Der Schlüsselsatz trägt nicht genug Signaturen seiner eigenen Schlüssel.",
  E_RELEASE_KEYS_EXPIRED: "Der neueste Schlüsselsatz ist abgelaufen.",
  E_RELEASE_KEYS_NOT_YET_VALID:
    "Der Schlüsselsatz ist nach der vertrauten Uhrzeit erst später ausgestellt.",
  E_RELEASE_KEYS_NO_TRUSTED_TIME:
    "Ohne vertraute Uhrzeit lässt sich nicht prüfen, ob der Schlüsselsatz abgelaufen ist.",
  E_RELEASE_KEYS_REBOUND:
    "Eine heute vertraute Schlüssel-ID wäre im neuen Satz an einen anderen Schlüssel gebunden.",
  // alarms, forwarding, risk
  E_ALARM_MISSING: "Diesen Alarm gibt es nicht (mehr).",
  E_ALARM_SETTING: "Diese Alarm-Einstellung ist nicht gültig.",
  E_ESCALATION_POLICY: "Die Eskalationsregel ist nicht gültig.",
  E_WEBHOOK_URL: "Die Webhook-Adresse ist nicht gültig (https erforderlich).",
  E_SYSLOG_FACILITY: "Die Syslog-Facility ist nicht gültig.",
  E_SYSLOG_SEVERITY: "Der Syslog-Schweregrad ist nicht gültig.",
  E_RISK_MISSING: "Diesen Risikoeintrag gibt es nicht.",
  E_DEVICE_UNKNOWN: "Dieses Schloss ist der Flotte nicht bekannt.",
  // four eyes
  E_SAME_APPROVER:
    "Diese Person hat schon zugestimmt; die zweite Freigabe muss von jemand anderem kommen.",
  E_PUPPET_APPROVER:
    "Die beiden Personen sind nicht unabhängig: Eine wurde über die andere (oder beide über dieselbe Person) erfasst, freigeschaltet oder mit einem Konto versehen.",
  E_NOT_YET_ACTIVE:
    "Die zweite Person muss schon aktiv gewesen sein, als der Vorgang angelegt wurde.",
  E_SELF_APPROVAL: "Niemand gibt einen Vorgang frei, der ihm selbst Befugnisse gibt.",
  E_SELF_SERVICE:
    "Niemand gibt sich selbst Rechte, Rollen oder eine Freischaltung; eine andere Person muss es vorschlagen.",
  E_SAME_OFFICER: "Die beiden Hälften eines PIN-Briefs gehen an zwei verschiedene Personen.",
  E_PROPOSAL_STATE: "Dieser Vorschlag ist schon entschieden.",
  E_PROPOSAL_REQUIRED:
    "Eine höhere Rolle oder längere Gültigkeit ist ein neues Recht: dieses entfernen und das neue vorschlagen.",
  E_POLICY_STATE: "Diese Richtlinienänderung ist schon entschieden.",
  E_POLICY_UNCHANGED: "Das ist die Richtlinie, die das Behältnis schon hat; nichts zu ändern.",
  E_CORRECTION_STATE: "Diese Uhrkorrektur ist schon entschieden.",
  E_RELEASE_STATE: "Diese zentrale Freigabe ist schon entschieden.",
  E_RELEASE_PENDING:
    "Für dieses Behältnis wartet schon eine zentrale Freigabe auf die zweite Person.",
  E_REASON_REQUIRED: "Bitte einen Grund angeben.",
  // people, accounts, rights
  E_EMAIL: "Das ist keine E-Mail-Adresse (name@domain.tld).",
  E_EMAIL_TAKEN: "Für diese E-Mail-Adresse gibt es schon ein Konto.",
  E_ROLE: "Diese Rolle passt nicht zu dieser Person.",
  E_ROLE_ORG: "Diese Rolle gibt es in dieser Organisation nicht.",
  E_SCOPE: "Nur eine Filialleitung wird an Filialen oder eine Region gebunden.",
  E_SCOPE_REQUIRED: "Eine Filialleitung wird an benannte Filialen oder eine Region gebunden.",
  E_ALREADY_IDENTIFIED: "Diese Person ist schon identifiziert.",
  E_NOT_IDENTIFIED: "Die Person muss identifiziert sein, bevor sie freigeschaltet wird.",
  E_DOCUMENT_IN_USE: "Dieses Ausweisdokument identifiziert schon eine andere Person.",
  E_PERSON_DELETED: "Diese Person wurde gelöscht.",
  E_PERSON_NOT_ENABLED: "Die Person muss erst identifiziert und freigeschaltet werden.",
  E_RIGHT_EXISTS: "Die Person hat auf diesem Behältnis schon ein Recht; bitte dieses ändern.",
  E_RIGHT_REMOVED: "Dieses Recht wurde entfernt.",
  E_PIN_LETTER_GONE: "Dieser PIN-Brief wurde schon abgerufen; er wird nie wieder gezeigt.",
  E_PIN_LETTER_SPLIT:
    "Diese Bank stellt PIN-Briefe in zwei Hälften zu, abgerufen von zwei verschiedenen Personen.",
  E_PIN_LETTER_WHOLE: "Dieser PIN-Brief wird als Ganzes zugestellt (keine Hälften).",
  // places, contracts, windows
  E_REGION_EXISTS: "Diese Region gibt es schon.",
  E_TIME_ZONE: "Diese Zeitzone passt nicht (es gilt die Zeitzone der Filiale).",
  E_HOLIDAY_RANGE: "Ein Feiertag endet vor seinem Beginn.",
  E_LOCAL_TIME: "Das ist keine Uhrzeit im Format HH:MM.",
  E_DATE: "Dieses Datum gibt es nicht.",
  E_CONTRACT_PARTY: "Diese Organisation ist kein Werttransportunternehmen.",
  E_CONTRACT_WINDOW: "Ein festes Tourenfenster nennt ein Behältnis, das der Vertrag nicht enthält.",
  E_STANDING_WINDOWS: "Die festen Tourenfenster des Vertrags sind ungültig.",
  E_NO_CONTRACT: "Kein gültiger Vertrag erlaubt das an diesem Behältnis.",
  E_CREW: "Eine Besatzung hat eine bis mehrere verschiedene, freigeschaltete Personen.",
  E_WINDOW_RANGE: "Das Fenster muss nach seinem Beginn und in der Zukunft enden.",
  E_WINDOW_STATE: "Das geht in diesem Zustand des Fensters nicht.",
  E_WINDOW_EXPIRED: "Dieses Fenster ist schon abgelaufen.",
  E_VALIDITY: "Die Gültigkeit passt nicht (zu kurz, zu lang oder in der Vergangenheit).",
  E_OTP_WINDOW:
    "Einmalcodes brauchen ein Fenster von mindestens einer Stunde, das zur Viertelstunde beginnt.",
  E_CODES_ALREADY_SHOWN: "Die Einmalcodes dieses Fensters wurden schon einmal gezeigt.",
  E_NO_OTP_SECRET: "Dieses Schloss hat kein Geheimnis für Einmalcodes.",
  // locks
  E_NO_LOCK: "In diesem Behältnis ist kein Schloss angemeldet.",
  E_LOCK_AMBIGUOUS: "Das Behältnis hat mehrere Schlösser; bitte eines wählen.",
  E_DEVICE_RETIRED: "Dieses Schloss ist außer Betrieb.",
  E_FLEET_KEY: "Das Schloss vertraut keinem Schlüssel mehr, den die Flottenverwaltung hält.",
  E_DRIFT_UNKNOWN: "Die Flottenverwaltung hat die Uhr dieses Schlosses noch nicht gemessen.",
  E_NO_CORRECTION: "Die Uhr dieses Schlosses geht richtig.",
  E_LOCK_REFUSED: "Das Schloss hat den Befehl abgelehnt.",
  E_SEND: "Der Befehl konnte nicht an das Schloss gesendet werden.",
  E_APPROVALS_REQUIRED: "Das Schloss verlangt die Freigabe durch eine zweite Person.",
  E_ENROLMENT_TOKEN: "Das Anmeldetoken ist ungültig.",
  E_ENROLMENT_TOKEN_EXPIRED: "Das Anmeldetoken ist abgelaufen.",
  E_ENROLMENT_TOKEN_USED: "Das Anmeldetoken wurde schon verwendet.",
  // alarms, reports, risk
  E_ACK_COMMENT_REQUIRED: "Eine Quittierung braucht einen Kommentar.",
  E_ACK_COMMENT_TOO_LONG: "Der Kommentar ist zu lang.",
  E_ALARM_ACKNOWLEDGED: "Dieser Alarm wurde schon quittiert.",
  E_REPORT_PERIOD: "Der Zeitraum muss vor seinem Ende beginnen.",
  E_RISK_PERIOD: "Der Zeitraum muss vor seinem Ende beginnen und darf nicht zu lang sein.",
  E_RISK_TITLE: "Ein Risikoeintrag braucht einen Titel.",
  E_RISK_LIKELIHOOD: "Die Eintrittswahrscheinlichkeit liegt auf der Skala 1 bis 5.",
  E_RISK_JUSTIFICATION: "Eine abweichende Einschätzung braucht eine ausführlichere Begründung.",
  E_RISK_NO_OVERRIDE: "Dieser Risikoeintrag hat keine abweichende Einschätzung.",
  E_RISK_REVIEW_DATE: "Das Prüfdatum ist kein Datum.",
  // input
  E_SCHEMA: "Die Eingabe ist unvollständig oder hat ein falsches Format.",
  E_BAD_REQUEST: "Die Anfrage ist ungültig.",
  E_BAD_CURSOR: "Die Seitenangabe ist ungültig; bitte die Liste neu laden.",
  E_JSON: "Die Anfrage ist kein gültiges JSON.",
  E_JSON_KEY: "Die Anfrage enthält ein unzulässiges Feld.",
  E_JSON_DUPLICATE_KEY: "Die Anfrage enthält ein Feld doppelt.",
  E_TEXT_CONTROL: "Ein Text enthält ein Steuerzeichen.",
  E_TEXT_ENCODING: "Ein Text ist kein gültiges Unicode.",
  E_TOO_LARGE: "Die Anfrage ist zu groß.",
  E_UNSUPPORTED_MEDIA_TYPE: "Dieses Format nimmt die Flottenverwaltung nicht an.",
  E_INTERNAL: "Ein interner Fehler ist aufgetreten; bitte den Betrieb verständigen.",
  E_HTTP: "Die Flottenverwaltung hat die Anfrage nicht beantwortet.",
};
