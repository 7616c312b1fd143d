"""Test doubles that stand in for outside services, so tests never need the network."""

from .openai_server import FakeOpenAIServer, RecordedRequest, default_reply, fake_embedding

__all__ = ["FakeOpenAIServer", "RecordedRequest", "default_reply", "fake_embedding"]
