import { describe, expect, it } from "vitest";
import { errorBodyDetail } from "../src/errors.js";

describe("errorBodyDetail", () => {
  it("reads a service's {code, message} error body as 'CODE: message'", () => {
    expect(errorBodyDetail('{"code":"E_ENROLMENT_TOKEN","message":"the token is not valid"}')).toBe(
      "E_ENROLMENT_TOKEN: the token is not valid",
    );
    expect(errorBodyDetail('{"code":"E_X"}')).toBe("E_X: ");
  });

  it("anything else is no error body: JSON without a code, null, HTML, nothing", () => {
    for (const text of ['{"message":"x"}', "null", '"E_X"', "<html>502</html>", ""]) {
      expect(errorBodyDetail(text)).toBeUndefined();
    }
  });
});
