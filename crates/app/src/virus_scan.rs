//! An optional virus scan of every upload through a ClamAV daemon (clamd), over its Unix
//! socket or TCP, with clamd's INSTREAM command. When a scanner is configured and cannot be
//! reached, uploads are refused (fail closed) rather than stored unscanned.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Where clamd listens: `unix:/run/clamav/clamd.ctl` or `tcp:127.0.0.1:3310`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScannerAddress {
    Unix(String),
    Tcp(String),
}

impl ScannerAddress {
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.split_once(':') {
            Some(("unix", path)) if !path.is_empty() => Ok(Self::Unix(path.to_owned())),
            Some(("tcp", addr)) if addr.contains(':') => Ok(Self::Tcp(addr.to_owned())),
            _ => Err(format!(
                "'{text}' is not a clamd address: use unix:/path/to/clamd.ctl or tcp:host:port"
            )),
        }
    }
}

/// What clamd said of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Clean,
    /// The signature's name.
    Infected(String),
}

const CHUNK: usize = 64 * 1024;
const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct VirusScanner {
    address: ScannerAddress,
}

impl VirusScanner {
    pub fn new(address: ScannerAddress) -> Self {
        Self { address }
    }

    /// Sends the content to clamd and reads its verdict.
    pub async fn scan(&self, content: &[u8]) -> Result<Verdict, String> {
        let work = async {
            match &self.address {
                ScannerAddress::Tcp(addr) => {
                    let stream = tokio::net::TcpStream::connect(addr)
                        .await
                        .map_err(|e| format!("cannot reach clamd at {addr}: {e}"))?;
                    instream(stream, content).await
                }
                #[cfg(unix)]
                ScannerAddress::Unix(path) => {
                    let stream = tokio::net::UnixStream::connect(path)
                        .await
                        .map_err(|e| format!("cannot reach clamd at {path}: {e}"))?;
                    instream(stream, content).await
                }
                #[cfg(not(unix))]
                ScannerAddress::Unix(_) => Err("Unix sockets need a Unix system".into()),
            }
        };
        tokio::time::timeout(TIMEOUT, work)
            .await
            .map_err(|_| "clamd did not answer in time".to_string())?
    }
}

/// clamd's INSTREAM: the command, the content in length-prefixed chunks, a zero-length chunk,
/// then one reply ending in a NUL: `stream: OK` or `stream: <signature> FOUND`.
async fn instream(
    mut stream: impl AsyncRead + AsyncWrite + Unpin,
    content: &[u8],
) -> Result<Verdict, String> {
    let io = |e: std::io::Error| format!("clamd connection failed: {e}");
    stream.write_all(b"zINSTREAM\0").await.map_err(io)?;
    for chunk in content.chunks(CHUNK) {
        stream
            .write_all(&(chunk.len() as u32).to_be_bytes())
            .await
            .map_err(io)?;
        stream.write_all(chunk).await.map_err(io)?;
    }
    stream.write_all(&0u32.to_be_bytes()).await.map_err(io)?;
    stream.flush().await.map_err(io)?;
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).await.map_err(io)?;
    verdict(&reply)
}

fn verdict(reply: &[u8]) -> Result<Verdict, String> {
    let text = String::from_utf8_lossy(reply);
    let text = text.trim_end_matches(['\0', '\n']).trim();
    let body = text.strip_prefix("stream:").map(str::trim).unwrap_or(text);
    if body == "OK" {
        Ok(Verdict::Clean)
    } else if let Some(name) = body.strip_suffix(" FOUND") {
        Ok(Verdict::Infected(name.trim().to_owned()))
    } else {
        Err(format!("clamd answered '{text}'"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_replies() {
        assert_eq!(
            ScannerAddress::parse("tcp:127.0.0.1:3310").unwrap(),
            ScannerAddress::Tcp("127.0.0.1:3310".into())
        );
        assert_eq!(
            ScannerAddress::parse("unix:/run/clamav/clamd.ctl").unwrap(),
            ScannerAddress::Unix("/run/clamav/clamd.ctl".into())
        );
        assert!(ScannerAddress::parse("clamd").is_err());
        assert_eq!(verdict(b"stream: OK\0").unwrap(), Verdict::Clean);
        assert_eq!(
            verdict(b"stream: Eicar-Test-Signature FOUND\0").unwrap(),
            Verdict::Infected("Eicar-Test-Signature".into())
        );
        assert!(verdict(b"INSTREAM size limit exceeded. ERROR\0").is_err());
    }
}
