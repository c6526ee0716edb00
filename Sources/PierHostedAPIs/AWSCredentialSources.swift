import Foundation

/// Where pier looks for AWS credentials, in the order it looks (the order of the AWS SDKs' default chain, with
/// GitHub Actions OIDC beside the web identity token file):
///
/// 1. `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (with `AWS_SESSION_TOKEN`).
/// 2. `AWS_WEB_IDENTITY_TOKEN_FILE` and a role ARN: STS AssumeRoleWithWebIdentity with the file's token.
/// 3. GitHub Actions OIDC (`ACTIONS_ID_TOKEN_REQUEST_URL` and `ACTIONS_ID_TOKEN_REQUEST_TOKEN`, present when the
///    workflow has `permissions: id-token: write`) and a role ARN: an ID token for the audience
///    `sts.amazonaws.com`, then AssumeRoleWithWebIdentity.
/// 4. The profile `AWS_PROFILE` (else `default`) in the shared credentials file (`AWS_SHARED_CREDENTIALS_FILE`,
///    else `~/.aws/credentials`), then in the config file (`AWS_CONFIG_FILE`, else `~/.aws/config`): its keys, or
///    its `role_arn` with `web_identity_token_file`.
///
/// The role ARN is `AWS_ROLE_ARN`, else pier.yml's `aws.role_arn`.
public struct AWSCredentialSources: Sendable, Equatable {
    public var accessKeyID: String?
    public var secretAccessKey: String?
    public var sessionToken: String?
    public var profile = "default"
    public var sharedCredentialsFile: String
    public var configFile: String
    public var webIdentityTokenFile: String?
    public var roleARN: String?
    /// `AWS_ROLE_SESSION_NAME`, else `pier`: the name CloudTrail shows for the assumed role's session.
    public var roleSessionName = "pier"
    /// The Actions ID-token endpoint and the bearer token that authorises the request.
    public var actionsIDTokenURL: String?
    public var actionsIDTokenRequestToken: String?
    /// The region for STS and for ECR hosts that name none: `AWS_REGION`, else `AWS_DEFAULT_REGION`.
    public var region: String?
    /// `AWS_ENDPOINT_URL_STS`, else `AWS_ENDPOINT_URL`; else STS's regional endpoint.
    public var stsEndpoint: String?

    /// The audience GitHub's ID token is asked for: the one AWS's OIDC provider for GitHub is set up with.
    public static let actionsAudience = "sts.amazonaws.com"

    public init(home: String = NSHomeDirectory()) {
        sharedCredentialsFile = home + "/.aws/credentials"
        configFile = home + "/.aws/config"
    }

    /// Reads the AWS SDKs' variables (and GitHub Actions' ID-token variables); empty counts as unset.
    public init(environment: [String: String]) {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        self.init(home: value("HOME") ?? NSHomeDirectory())
        accessKeyID = value("AWS_ACCESS_KEY_ID")
        secretAccessKey = value("AWS_SECRET_ACCESS_KEY")
        sessionToken = value("AWS_SESSION_TOKEN")
        profile = value("AWS_PROFILE") ?? value("AWS_DEFAULT_PROFILE") ?? profile
        sharedCredentialsFile = value("AWS_SHARED_CREDENTIALS_FILE") ?? sharedCredentialsFile
        configFile = value("AWS_CONFIG_FILE") ?? configFile
        webIdentityTokenFile = value("AWS_WEB_IDENTITY_TOKEN_FILE")
        roleARN = value("AWS_ROLE_ARN")
        roleSessionName = value("AWS_ROLE_SESSION_NAME") ?? roleSessionName
        actionsIDTokenURL = value("ACTIONS_ID_TOKEN_REQUEST_URL")
        actionsIDTokenRequestToken = value("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
        region = value("AWS_REGION") ?? value("AWS_DEFAULT_REGION")
        stsEndpoint = value("AWS_ENDPOINT_URL_STS") ?? value("AWS_ENDPOINT_URL")
    }

    /// The sources, named for a hint when none gave credentials.
    public static let hint =
        "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN, or (GitHub Actions, permissions id-token: write) AWS_ROLE_ARN or aws.role_arn in pier.yml"
}
