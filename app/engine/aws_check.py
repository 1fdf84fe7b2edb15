"""``test_connection``: what is wrong with the AWS settings, in one line (mixed into AwsEngine)."""

from __future__ import annotations

import botocore.exceptions

from .aws_support import ConnectionProblem, _code, _status


class ConnectionCheck:
    """Uses the engine's ``session``, ``client``, ``settings``, ``region``, ``_problem`` and ``_where``."""

    def test_connection(self) -> str:
        """Check credentials, region/endpoint, Transcribe access and the buckets; say exactly what is wrong.

        Returns a one-line OK message, or raises :class:`ConnectionProblem`.
        """
        E = botocore.exceptions
        session = self.session
        try:
            creds = session.get_credentials()
        except E.BotoCoreError as exc:
            raise self._problem(exc) from None
        if creds is None:
            raise self._problem(E.NoCredentialsError())
        source = self.credential_source or f"{getattr(creds, 'method', 'the AWS credential chain')}"
        transcribe = self.client("transcribe", check=True)
        try:
            transcribe.list_medical_transcription_jobs(MaxResults=1)
        except E.ClientError as exc:
            raise ConnectionProblem(self._explain(exc, "Transcribe Medical", "transcribe:ListMedicalTranscriptionJobs")) from None
        except E.BotoCoreError as exc:
            raise self._problem(exc) from None
        s3 = self.client("s3", check=True)
        checked = []
        for label, bucket in (("input", self.settings.aws_input_bucket),
                              ("output", self.settings.default_output_bucket)):
            if not bucket or bucket in checked:
                continue
            try:
                response = s3.head_bucket(Bucket=bucket)
            except E.ClientError as exc:
                code = _code(exc)
                if code in ("404", "NoSuchBucket", "NotFound"):
                    raise ConnectionProblem(f"The {label} bucket '{bucket}' does not exist (or not in this account): "
                                            "check the bucket name in the settings.") from None
                if code in ("403", "AccessDenied", "Forbidden"):
                    raise ConnectionProblem(f"Access denied on the {label} bucket '{bucket}': the credentials from "
                                            f"{source} need s3:ListBucket, s3:GetObject and s3:PutObject on it.") from None
                if code in ("301", "PermanentRedirect", "AuthorizationHeaderMalformed"):
                    raise ConnectionProblem(f"The {label} bucket '{bucket}' is in another region than "
                                            f"{self.region}: Transcribe needs buckets in the job's region.") from None
                raise ConnectionProblem(self._explain(exc, f"the {label} bucket '{bucket}'", "s3:ListBucket")) from None
            except E.BotoCoreError as exc:
                raise self._problem(exc) from None
            bucket_region = response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("x-amz-bucket-region")
            if bucket_region and self.region and bucket_region != self.region:
                raise ConnectionProblem(f"The {label} bucket '{bucket}' is in region {bucket_region}, but ClinScribe "
                                        f"uses {self.region}: Transcribe needs buckets in the job's region. "
                                        "Change the region or the bucket in the settings.")
            checked.append(bucket)
        buckets = f"; buckets {', '.join(checked)} reachable" if checked else "; no buckets set"
        return f"OK: Transcribe Medical reachable at {self._where()} with credentials from {source}{buckets}."

    def _explain(self, exc: botocore.exceptions.ClientError, what: str, permission: str) -> str:
        code, message = _code(exc), exc.response.get("Error", {}).get("Message", "")
        if code in ("ExpiredTokenException", "ExpiredToken", "RequestExpired", "TokenRefreshRequired"):
            return ("The AWS session token has expired: get new temporary credentials "
                    "(or 'aws sso login') and save them again.")
        if code in ("UnrecognizedClientException", "InvalidClientTokenId", "InvalidAccessKeyId"):
            return "AWS does not recognise the access key ID: check it, or save a current one."
        if code in ("InvalidSignatureException", "SignatureDoesNotMatch"):
            return "AWS rejected the request signature: the secret access key is wrong, or the computer's clock is off."
        if code in ("AccessDeniedException", "AccessDenied", "403"):
            return f"Access denied to {what}: the credentials need {permission}."
        return f"{what} answered {code or _status(exc)}: {message or exc}"
