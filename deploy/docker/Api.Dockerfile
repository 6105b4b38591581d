# syntax=docker/dockerfile:1
# The API node (an Orleans client in cluster mode, or the embedded service).
# Build from the repository root:
#
#   docker build -f deploy/docker/Api.Dockerfile -t credentials-api .
#
# Multi-stage: the SDK image restores and publishes; the runtime image is Ubuntu chiseled (no
# shell, no package manager) and runs as its non-root "app" user (uid 1654). Listens on 8080.
#
# Embedded (the default: one process, SQLite) keeps its state in /data, a volume owned by the app
# user. A named volume starts as a copy of that directory, so it is writable as is:
#
#   docker run -p 8080:8080 -v credentials-data:/data credentials-api
#
# (A host directory instead of a named volume must be writable by uid 1654.) In cluster mode
# (Orleans__Mode=Client) nothing is written there.

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
COPY Api/Api.csproj Api/
RUN dotnet restore -a $TARGETARCH Api/Api.csproj
COPY Grains.Interfaces/ Grains.Interfaces/
COPY Grains/ Grains/
COPY Api/ Api/
# One architecture's native libraries only (SkiaSharp, SQLite), English resources only: about 30 MB.
RUN dotnet publish Api/Api.csproj -c Release -a $TARGETARCH --no-restore --self-contained false \
        -p:UseAppHost=false -p:SatelliteResourceLanguages=en -o /app
# The runtime image has no shell to make the data directory in: make it here, empty.
RUN mkdir /data

FROM mcr.microsoft.com/dotnet/aspnet:${DOTNET_VERSION}-noble-chiseled AS runtime
WORKDIR /app
COPY --from=build /app .
# 1654 is $APP_UID, the "app" user of the .NET images (a number, so no lookup is needed).
COPY --from=build --chown=1654:1654 /data /data
USER $APP_UID
# Unprefixed, so it wins over the Urls in appsettings.json (localhost only).
ENV Urls=http://+:8080
# Embedded mode's SQLite database, blob files and generated admin-token hash.
ENV Storage__DataDirectory=/data
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["dotnet", "Credentials.Api.dll"]
