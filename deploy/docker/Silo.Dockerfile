# syntax=docker/dockerfile:1
# A silo (grains and storage; HTTP only for /healthz and /readyz).
# Build from the repository root:
#
#   docker build -f deploy/docker/Silo.Dockerfile -t credentials-silo .
#
# Multi-stage: the SDK image restores and publishes; the runtime image is Ubuntu chiseled (no
# shell, no package manager) and runs as its non-root "app" user (uid 1654). Listens on 8080.

ARG DOTNET_VERSION=10.0

# The SDK runs on the build machine's platform and publishes for the target's architecture
# (docker buildx build --platform linux/amd64,linux/arm64 ...).
FROM --platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:${DOTNET_VERSION} AS build
ARG TARGETARCH
WORKDIR /src
# Restore from the project files alone, so this layer is reused until a dependency changes.
COPY global.json Directory.Build.props Directory.Packages.props ./
COPY Grains.Interfaces/Grains.Interfaces.csproj Grains.Interfaces/
COPY Grains/Grains.csproj Grains/
COPY Silo/Silo.csproj Silo/
RUN dotnet restore -a $TARGETARCH Silo/Silo.csproj
COPY Grains.Interfaces/ Grains.Interfaces/
COPY Grains/ Grains/
COPY Silo/ Silo/
# The silo compiles the API's problem+json writer (linked in Silo.csproj).
COPY Api/Http/Problems.cs Api/Http/
# One architecture's native libraries only (SkiaSharp, SQLite), English resources only: about 30 MB.
RUN dotnet publish Silo/Silo.csproj -c Release -a $TARGETARCH --no-restore --self-contained false \
        -p:UseAppHost=false -p:SatelliteResourceLanguages=en -o /app

FROM mcr.microsoft.com/dotnet/aspnet:${DOTNET_VERSION}-noble-chiseled AS runtime
WORKDIR /app
COPY --from=build /app .
USER $APP_UID
# Unprefixed, so it wins over the Urls in appsettings.json (localhost only).
ENV Urls=http://+:8080
EXPOSE 8080
ENTRYPOINT ["dotnet", "Credentials.Silo.dll"]
