// A process's TLS files, loaded, checked and watched for rotation. It is the certificate
// provider grpc-js reads servers' and channels' secure contexts from (createCertificateProvider
// Server/ChannelCredentials), so a rotated certificate, key or CA bundle is used for every new
// connection without a restart; connections already open keep the session they have.
//
// The files are polled (a stat each, every certReloadPollMs) rather than watched with fs.watch:
// rotation tools replace files by rename, which inotify reports on the directory, not the file,
// and polling behaves the same on every filesystem. A change is taken only once the new set
// checks out as a whole: a certificate copied before its key, say, is a half-done rotation,
// logged and retried at the next change, while the previous material stays in use.

import type { experimental } from "@grpc/grpc-js";
import { certExpiryWarningDays, certReloadPollMs } from "./limits.js";
import type { Logger } from "../base/logger.js";
import { fileVersions } from "./file-version.js";
import { describeIdentity } from "./identity.js";
import { loadTlsMaterial, type ExpectedPrincipal, type TlsFilePaths, type TlsMaterial } from "./tls-files.js";

type CaListener = experimental.CaCertificateUpdateListener;
type IdentityListener = experimental.IdentityCertificateUpdateListener;

const dayMs = 86_400_000;

export class TlsWatcher implements experimental.CertificateProvider {
  private readonly caListeners = new Set<CaListener>();
  private readonly identityListeners = new Set<IdentityListener>();
  private timer: NodeJS.Timeout | undefined;
  private versions: string;
  private checking = false;
  private lastError = "";
  private lastExpiryWarningMs = Number.NEGATIVE_INFINITY;
  /** Reloads that took effect (tests and metrics). */
  reloads = 0;

  private constructor(
    readonly paths: TlsFilePaths,
    private readonly expected: ExpectedPrincipal,
    private readonly logger: Logger,
    private material: TlsMaterial,
    versions: string,
    pollMs: number,
  ) {
    this.versions = versions;
    this.warnIfExpiringSoon();
    this.timer = setInterval(() => void this.check(), pollMs);
    this.timer.unref(); // never what keeps a process alive
  }

  /** Loads the files (throws an Error naming the file and problem) and starts watching them. */
  static async open(
    paths: TlsFilePaths,
    expected: ExpectedPrincipal,
    logger: Logger,
    pollMs = certReloadPollMs,
  ): Promise<TlsWatcher> {
    const versions = await TlsWatcher.statAll(paths);
    const material = await loadTlsMaterial(paths, expected);
    return new TlsWatcher(paths, expected, logger, material, versions, pollMs);
  }

  private static statAll(paths: TlsFilePaths): Promise<string> {
    return fileVersions([paths.ca, paths.cert, paths.key]);
  }

  get current(): TlsMaterial {
    return this.material;
  }

  /** Looks at the files now (the poll does this on its own; tests call it to not wait). */
  async check(): Promise<void> {
    if (this.checking || this.timer === undefined) return;
    this.checking = true;
    try {
      this.warnIfExpiringSoon();
      const versions = await TlsWatcher.statAll(this.paths);
      if (versions === this.versions) return;
      let material: TlsMaterial;
      try {
        material = await loadTlsMaterial(this.paths, this.expected);
      } catch (e) {
        // Keep using what works; look again when a file changes once more.
        this.versions = versions;
        const message = (e as Error).message;
        if (message !== this.lastError)
          this.logger.error({ err: message }, "new TLS files are not usable; still using the previous certificate");
        this.lastError = message;
        return;
      }
      this.versions = versions;
      this.lastError = "";
      const previous = this.material;
      this.material = material;
      this.reloads++;
      this.lastExpiryWarningMs = Number.NEGATIVE_INFINITY;
      this.logger.info(
        {
          identity: describeIdentity(material.identity),
          serial: material.serial,
          notAfter: material.notAfter.toISOString(),
          previousSerial: previous.serial,
        },
        "TLS certificate reloaded; new connections use it",
      );
      this.warnIfExpiringSoon();
      this.emit();
    } finally {
      this.checking = false;
    }
  }

  /** At start, after a reload, and then at most daily while it lasts: a certificate near its
   * end (or past it: peers refuse it then) is a rotation someone must do. */
  private warnIfExpiringSoon(): void {
    const now = Date.now();
    const days = (this.material.notAfter.getTime() - now) / dayMs;
    if (days >= certExpiryWarningDays || now - this.lastExpiryWarningMs < dayMs) return;
    this.lastExpiryWarningMs = now;
    const fields = { cert: this.paths.cert, notAfter: this.material.notAfter.toISOString(), days: Math.floor(days) };
    if (days < 0)
      this.logger.error(fields, "TLS certificate has expired: peers refuse it; rotate it (dev certs issue)");
    else this.logger.warn(fields, "TLS certificate expires soon; rotate it (dev certs issue)");
  }

  private emit(): void {
    for (const l of this.caListeners) l({ caCertificate: this.material.caPem });
    for (const l of this.identityListeners) l({ certificate: this.material.certPem, privateKey: this.material.keyPem });
  }

  addCaCertificateListener(listener: CaListener): void {
    this.caListeners.add(listener);
    // grpc-js expects the current value asynchronously, as its own providers give it.
    process.nextTick(listener, { caCertificate: this.material.caPem });
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.caListeners.delete(listener);
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.add(listener);
    process.nextTick(listener, { certificate: this.material.certPem, privateKey: this.material.keyPem });
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.delete(listener);
  }

  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}
